package mount

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"strata/dbexport"
	"strata/repo"
)

// convertedFile is a table's rows in a format other than the stored COPY
// text (CSV, JSON Lines, and TSV of SQLite's typed rows), converted
// chunk by chunk as a reader reads, with the dump code's row writer
// (dbexport.RowFormat), so its bytes are those of `strata dump --format`.
// Its size is not known until the table was converted to its end: the
// first stat of a table up to Options.MeasureMax converts it (measure);
// a larger one says 0 bytes until the measurer (measure.go) or a reader
// has reached its end. Reads
// bypass the kernel's page cache (direct I/O) so that they go on to the
// real end whatever the size said, as reads of /proc files do, and as
// restic's and rclone's mounts read files of unknown size. Where each
// chunk's rows start in the output is remembered as
// they are converted, so a read at an offset already passed starts from
// the chunk before it instead of from the first.
type convertedFile struct {
	fs.Inode
	m      *mountFS
	label  string
	node   *repo.Node
	table  *dbexport.Table
	format string
	mtime  time.Time

	once sync.Once
	loc  locator

	measuring sync.Mutex  // one measure at a time
	queued    atomic.Bool // queued for the measurer
	keyOnce   sync.Once
	key       [32]byte // sizeKey

	mu    sync.Mutex
	size  int64  // -1 until a reader reached the end
	marks []mark // ascending; marks[0] is the first row
}

// mark is where a chunk that starts a row begins, in the stored text
// (in) and in the output (out), and the rows before it.
type mark struct {
	in, out uint64
	rows    int64
}

var (
	_ fs.NodeOpener    = (*convertedFile)(nil)
	_ fs.NodeReader    = (*convertedFile)(nil)
	_ fs.NodeGetattrer = (*convertedFile)(nil)
)

func (m *mountFS) convertedFile(s *snap, sp string, n *repo.Node, t *dbexport.Table, format string) *convertedFile {
	return &convertedFile{m: m, label: s.describe() + ", " + sp, node: n, table: t, format: format,
		mtime: s.sn.Time, size: -1}
}

func (f *convertedFile) Getattr(ctx context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	f.mu.Lock()
	known := f.size >= 0
	f.mu.Unlock()
	if !known {
		if size, ok := f.m.measurer.sizes.get(f.sizeKey()); ok {
			f.mu.Lock()
			f.size = size // the same bytes in another snapshot
			f.mu.Unlock()
			known = true
		}
	}
	switch max := f.m.opts.MeasureMax; {
	case known || max < 0:
	case f.node.Size <= uint64(max):
		if err := f.measure(ctx); err != nil {
			// The size stays unknown (0), and a read says why it fails.
			f.m.opts.Logf("%s: its size: %v", f.label, err)
		}
	default:
		f.m.measurer.later(f) // 0 bytes until measured
	}
	f.mu.Lock()
	if f.size > 0 {
		out.Size = uint64(f.size)
		out.Blocks = (out.Size + 511) / 512
	}
	f.mu.Unlock()
	f.m.setTimes(&out.Attr, f.mtime)
	// The size changes once known.
	out.SetTimeout(time.Second)
	return 0
}

// sizeKey is what the file's bytes depend on (measurer).
func (f *convertedFile) sizeKey() [32]byte {
	f.keyOnce.Do(func() { f.key = sizeKey(f.node, f.format) })
	return f.key
}

// measure converts the whole table, keeping nothing but its size and
// the marks, unless the size is known.
func (f *convertedFile) measure(ctx context.Context) error {
	f.measuring.Lock()
	defer f.measuring.Unlock()
	f.mu.Lock()
	known := f.size >= 0
	f.mu.Unlock()
	if known {
		return nil
	}
	f.once.Do(func() { f.loc = newLocator(f.m, f.node) })
	rf, err := dbexport.NewRowFormat(f.table, f.format)
	if err != nil {
		return err
	}
	h := &convHandle{rf: rf}
	h.restart(mark{})
	for !h.done {
		if err := f.advance(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// convHandle is one reader's position in the converted rows: buf holds
// the output of the chunks converted last, from output offset out; in
// is where the next chunk starts in the stored text, and carry the start
// of a row that chunk completes.
type convHandle struct {
	mu    sync.Mutex
	rf    *dbexport.RowFormat
	in    uint64
	out   uint64
	buf   []byte
	carry []byte
	rows  int64
	done  bool
}

func (f *convertedFile) Open(ctx context.Context, _ uint32) (fs.FileHandle, uint32, syscall.Errno) {
	rf, err := dbexport.NewRowFormat(f.table, f.format)
	if err != nil {
		return nil, 0, f.m.failed(f.label, err)
	}
	h := &convHandle{rf: rf}
	h.restart(mark{})
	return h, fuse.FOPEN_DIRECT_IO, 0
}

// restart moves h to mark k.
func (h *convHandle) restart(k mark) {
	h.in, h.out, h.rows, h.done = k.in, k.out, k.rows, false
	h.buf, h.carry = h.buf[:0], h.carry[:0]
	if k.in == 0 {
		h.out = 0
		h.buf = append(h.buf, h.rf.Header()...)
	}
}

func (f *convertedFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.once.Do(func() { f.loc = newLocator(f.m, f.node) })
	h, ok := fh.(*convHandle)
	if !ok || off < 0 {
		return nil, syscall.EBADF
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	pos := uint64(off)
	if k, ok := f.markBefore(pos); pos < h.out || (ok && k.out > h.out) {
		h.restart(k)
	}
	// A read fills dest up to the end of the file, across as many
	// chunks as it takes: a shorter one means the end of a regular file
	// to its reader (tar stops there and pads with zeros).
	n := 0
	for n < len(dest) {
		for pos >= h.out+uint64(len(h.buf)) && !h.done {
			if err := f.advance(ctx, h); err != nil {
				h.restart(mark{})
				return nil, f.m.failed(f.label, err)
			}
		}
		if pos >= h.out+uint64(len(h.buf)) {
			break // the end
		}
		k := copy(dest[n:], h.buf[pos-h.out:])
		n += k
		pos += uint64(k)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// markBefore returns the last mark at or before output offset pos.
func (f *convertedFile) markBefore(pos uint64) (mark, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := sort.Search(len(f.marks), func(i int) bool { return f.marks[i].out > pos })
	if i == 0 {
		return mark{}, false
	}
	return f.marks[i-1], true
}

// addMark records k, which follows every mark recorded before or is one
// of them (readers convert in order).
func (f *convertedFile) addMark(k mark) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := sort.Search(len(f.marks), func(i int) bool { return f.marks[i].in >= k.in })
	if i < len(f.marks) && f.marks[i].in == k.in {
		return
	}
	f.marks = append(f.marks, mark{})
	copy(f.marks[i+1:], f.marks[i:])
	f.marks[i] = k
}

// advance converts the next chunk into h.buf, dropping what h.buf held.
func (f *convertedFile) advance(ctx context.Context, h *convHandle) error {
	h.out += uint64(len(h.buf))
	h.buf = h.buf[:0]
	if h.in >= f.node.Size {
		if len(h.carry) > 0 { // a last row without its line end
			if err := f.convert(h, h.carry); err != nil {
				return err
			}
			h.carry = h.carry[:0]
		}
		h.done = true
		f.mu.Lock()
		known := f.size >= 0
		f.size = int64(h.out + uint64(len(h.buf)))
		f.mu.Unlock()
		f.m.measurer.sizes.put(f.sizeKey(), int64(h.out+uint64(len(h.buf))))
		if !known {
			// The kernel's attributes say 0 bytes: drop them. Not
			// from inside this request, which holds the inode.
			go f.NotifyContent(-1, 0)
		}
		return nil
	}
	c, err := f.loc.find(ctx, h.in)
	if err != nil {
		return err
	}
	if c.start != h.in {
		return fmt.Errorf("%w: the chunk list has no chunk starting at byte %d", repo.ErrDamaged, h.in)
	}
	data, err := f.m.chunkData(ctx, c)
	if err != nil {
		return fmt.Errorf("chunk at byte %d: %w", c.start, err)
	}
	if uint64(len(data)) != c.length {
		return fmt.Errorf("%w: chunk %s at byte %d is %d bytes, the chunk list says %d",
			repo.ErrDamaged, c.id.Short(), c.start, len(data), c.length)
	}
	if len(h.carry) == 0 {
		f.addMark(mark{in: c.start, out: h.out, rows: h.rows})
	}
	h.in = c.end()
	readAhead(ctx, f.m, f.loc, f.node.Size, c)
	if len(h.carry) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			h.carry = append(h.carry, data...)
			return nil
		}
		h.carry = append(h.carry, data[:i]...)
		if err := f.convert(h, h.carry); err != nil {
			return err
		}
		h.carry = h.carry[:0]
		data = data[i+1:]
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			h.carry = append(h.carry, data...)
			break
		}
		if err := f.convert(h, data[:i]); err != nil {
			return err
		}
		data = data[i+1:]
	}
	return nil
}

// convert appends one row to h.buf.
func (f *convertedFile) convert(h *convHandle, line []byte) error {
	h.rows++
	var err error
	h.buf, err = h.rf.AppendRow(h.buf, line, h.rows)
	return err
}
