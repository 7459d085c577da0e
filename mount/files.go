package mount

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"strata/repo"
)

// memFile is a small file made in memory: meta.json, schema.sql.
type memFile struct {
	fs.Inode
	m     *mountFS
	data  []byte
	mtime time.Time
}

var (
	_ fs.NodeOpener    = (*memFile)(nil)
	_ fs.NodeReader    = (*memFile)(nil)
	_ fs.NodeGetattrer = (*memFile)(nil)
)

func (f *memFile) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(len(f.data))
	f.m.setTimes(&out.Attr, f.mtime)
	return 0
}

func (f *memFile) Open(context.Context, uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (f *memFile) Read(_ context.Context, _ fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(f.data[off:min(int64(len(f.data)), off+int64(len(dest)))]), 0
}

// storedFile is content stored as a node's chunks: a file, a stream, or
// a table's COPY text. Its size is known (the node's, which is the sum
// of its chunks' bytes), and a read at any offset loads only the chunks
// it covers, found by the locator.
type storedFile struct {
	fs.Inode
	m     *mountFS
	label string // the snapshot and path, for messages
	node  *repo.Node
	size  uint64
	mtime time.Time
	perm  uint32

	once sync.Once
	loc  locator
}

var (
	_ fs.NodeOpener    = (*storedFile)(nil)
	_ fs.NodeReader    = (*storedFile)(nil)
	_ fs.NodeGetattrer = (*storedFile)(nil)
)

func (m *mountFS) storedFile(s *snap, sp string, n *repo.Node, size uint64, mtime time.Time, perm uint32) *storedFile {
	return &storedFile{m: m, label: s.describe() + ", " + sp, node: n, size: size, mtime: mtime, perm: perm}
}

func (f *storedFile) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | f.perm
	out.Nlink = 1
	out.Size = f.size
	out.Blocks = (f.size + 511) / 512
	f.m.setTimes(&out.Attr, f.mtime)
	return 0
}

// readHandle remembers where a reader's last read ended, so a
// sequential reader gets the chunks after it loaded ahead.
type readHandle struct {
	mu   sync.Mutex
	next uint64
}

func (f *storedFile) Open(context.Context, uint32) (fs.FileHandle, uint32, syscall.Errno) {
	// A snapshot never changes: the kernel may keep the pages it read.
	return &readHandle{}, fuse.FOPEN_KEEP_CACHE, 0
}

func (f *storedFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.once.Do(func() { f.loc = newLocator(f.m, f.node) })
	if off < 0 || uint64(off) >= f.size {
		return fuse.ReadResultData(nil), 0
	}
	want := min(uint64(len(dest)), f.size-uint64(off))
	out := dest[:0]
	pos := uint64(off)
	var last chunkAt
	for uint64(len(out)) < want {
		c, err := f.loc.find(ctx, pos)
		if err != nil {
			return nil, f.m.failed(f.label, err)
		}
		data, err := f.m.chunkData(ctx, c)
		if err != nil {
			return nil, f.m.failed(f.label, fmt.Errorf("chunk at byte %d: %w", c.start, err))
		}
		if uint64(len(data)) != c.length {
			return nil, f.m.failed(f.label, fmt.Errorf("%w: chunk %s at byte %d is %d bytes, the chunk list says %d",
				repo.ErrDamaged, c.id.Short(), c.start, len(data), c.length))
		}
		n := copy(out[len(out):want], data[pos-c.start:])
		out = out[:len(out)+n]
		pos += uint64(n)
		last = c
	}
	if h, ok := fh.(*readHandle); ok {
		h.mu.Lock()
		sequential := uint64(off) == h.next || off == 0
		h.next = pos
		h.mu.Unlock()
		if sequential {
			readAhead(ctx, f.m, f.loc, f.size, last)
		}
	}
	return fuse.ReadResultData(out), 0
}

// readAhead starts loading the chunks after c of content of size bytes
// in the background, as far as Options.ReadAhead chunks.
func readAhead(ctx context.Context, m *mountFS, loc locator, size uint64, c chunkAt) {
	if fl, ok := loc.(*fileLocator); ok {
		// A file's chunks record no lengths (finding the next would
		// wait for this one), but their order is known.
		for _, id := range fl.content[min(c.index+1, len(fl.content)):min(c.index+1+m.opts.ReadAhead, len(fl.content))] {
			m.chunks.prefetch(id)
		}
		return
	}
	for range m.opts.ReadAhead {
		if c.end() >= size {
			return
		}
		next, err := loc.find(ctx, c.end())
		if err != nil {
			return
		}
		m.chunks.prefetch(next.id)
		c = next
	}
}
