package mount

import (
	"context"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// child is one entry of a folder of the mount.
type child struct {
	name string
	mode uint32 // fuse.S_IFDIR, S_IFREG or S_IFLNK
	// id tells apart what a name stands for over time (the snapshot of
	// a name, the target of latest): part of the inode number, so a
	// name given to another snapshot gets a new inode.
	id string
	// node makes the entry's node; called when the entry is looked up,
	// after check (when set) found nothing wrong.
	node  func() fs.InodeEmbedder
	check func() error
}

// dirNode is a folder: its entries come from list, each lookup and
// listing asking again (views change; a snapshot's folders do not, and
// their list is cached by the tree cache). The kernel keeps entries for
// ttl.
type dirNode struct {
	fs.Inode
	m     *mountFS
	path  string // mount path, for inode numbers and messages
	mtime time.Time
	// mtimeOf, when set, is the folder's mtime instead of mtime: a
	// view's is when the snapshots' listing last changed.
	mtimeOf func(ctx context.Context) time.Time
	ttl     time.Duration
	list    func(ctx context.Context) ([]child, error)
	// fixed: the entries never change (inside a snapshot), so the
	// first list is kept.
	fixed   bool
	mu      sync.Mutex
	kept    []child
	entries []fuse.DirEntry // of kept, when fixed
}

var (
	_ fs.NodeLookuper       = (*dirNode)(nil)
	_ fs.NodeReaddirer      = (*dirNode)(nil)
	_ fs.NodeOpendirHandler = (*dirNode)(nil)
	_ fs.NodeGetattrer      = (*dirNode)(nil)
)

func (d *dirNode) children(ctx context.Context) ([]child, syscall.Errno) {
	if d.fixed {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.kept != nil {
			return d.kept, 0
		}
	}
	cs, err := d.list(ctx)
	if err != nil {
		return nil, d.m.failed(d.path, err)
	}
	if d.fixed {
		d.kept = cs
	}
	return cs, 0
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	cs, errno := d.children(ctx)
	if errno != 0 {
		return nil, errno
	}
	i := sort.Search(len(cs), func(i int) bool { return cs[i].name >= name })
	if i == len(cs) || cs[i].name != name {
		return nil, syscall.ENOENT
	}
	c := cs[i]
	if c.check != nil {
		if err := c.check(); err != nil {
			return nil, d.m.failed(d.path+"/"+name, err)
		}
	}
	// An inode the kernel knows already keeps its node (and what it
	// learned, such as a converted file's size): attributes come from it.
	ch := d.NewInode(ctx, c.node(), fs.StableAttr{Mode: c.mode, Ino: d.ino(c)})
	var ao fuse.AttrOut
	if a, ok := ch.Operations().(fs.NodeGetattrer); ok {
		if errno := a.Getattr(ctx, nil, &ao); errno != 0 {
			return nil, errno
		}
		out.Attr = ao.Attr
	}
	out.SetEntryTimeout(d.ttl)
	out.SetAttrTimeout(d.ttl)
	if ao.AttrValid != 0 || ao.AttrValidNsec != 0 {
		out.AttrValid, out.AttrValidNsec = ao.AttrValid, ao.AttrValidNsec // the node's own
	}
	return ch, 0
}

func (d *dirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	entries, errno := d.dirEntries(ctx)
	if errno != 0 {
		return nil, errno
	}
	return fs.NewListDirStream(entries), 0
}

// dirEntries returns the folder's entries as READDIR gives them, not to
// be changed. A folder inside a snapshot makes them once: each READDIR
// opens the folder anew (noopendir.go), and a cold ls -R reads every
// folder twice (the second read finds the end).
func (d *dirNode) dirEntries(ctx context.Context) ([]fuse.DirEntry, syscall.Errno) {
	if d.fixed {
		d.mu.Lock()
		entries := d.entries
		d.mu.Unlock()
		if entries != nil {
			return entries, 0
		}
	}
	cs, errno := d.children(ctx)
	if errno != 0 {
		return nil, errno
	}
	entries := make([]fuse.DirEntry, len(cs))
	for i, c := range cs {
		entries[i] = fuse.DirEntry{Name: c.name, Mode: c.mode, Ino: d.ino(c)}
	}
	if d.fixed {
		d.mu.Lock()
		d.entries = entries
		d.mu.Unlock()
	}
	return entries, 0
}

// OpendirHandle opens the folder. A folder inside a snapshot never
// changes, so a kernel without no_opendir (noopendir.go) may keep its listing (FOPEN_CACHE_DIR and
// KEEP_CACHE): a second listing of it (ls -R again, find) costs an
// OPENDIR but no READDIR. A view's listing changes, and is read again.
func (d *dirNode) OpendirHandle(ctx context.Context, _ uint32) (fs.FileHandle, uint32, syscall.Errno) {
	var flags uint32
	if d.fixed {
		flags = fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	}
	return &dirHandle{d: d}, flags, 0
}

// dirHandle is an open folder: its entries, listed at the first read,
// handed out in order.
type dirHandle struct {
	d       *dirNode
	mu      sync.Mutex
	entries []fuse.DirEntry
	listed  bool
	next    int
}

var (
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileLookuper     = (*dirHandle)(nil)
)

// Lookup answers READDIRPLUS for the entry just listed: a folder is
// looked up, so the kernel enters it without a LOOKUP of its own (a
// cold ls -R descends into every folder); any other entry is left
// without attributes (node ID 0, which the kernel skips), as a plain
// READDIR gives it: listing a table folder does not make its five files'
// nodes, nor decode the table's definition their lookup needs.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	h.mu.Lock()
	i := sort.Search(len(h.entries), func(i int) bool { return h.entries[i].Name >= name })
	dir := i < len(h.entries) && h.entries[i].Name == name && h.entries[i].Mode == fuse.S_IFDIR
	h.mu.Unlock()
	if !dir {
		return nil, syscall.ENOENT
	}
	return h.d.Lookup(ctx, name, out)
}

func (h *dirHandle) list(ctx context.Context) syscall.Errno {
	if h.listed {
		return 0
	}
	entries, errno := h.d.dirEntries(ctx)
	if errno != 0 {
		return errno
	}
	h.entries, h.listed = entries, true
	return 0
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if errno := h.list(ctx); errno != 0 {
		return nil, errno
	}
	if h.next >= len(h.entries) {
		return nil, 0
	}
	e := h.entries[h.next]
	h.next++
	return &e, 0
}

// Seekdir goes back to entry off (the kernel asks after a read it could
// not take whole).
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if errno := h.list(ctx); errno != 0 {
		return errno
	}
	h.next = int(min(off, uint64(len(h.entries))))
	return 0
}

// ino is the inode number of entry c.
func (d *dirNode) ino(c child) uint64 { return ino(d.path + "/" + c.name + "\x00" + c.id) }

func (d *dirNode) Getattr(ctx context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFDIR | 0o555
	out.Nlink = 2
	mtime := d.mtime
	if d.mtimeOf != nil {
		mtime = d.mtimeOf(ctx)
	}
	d.m.setTimes(&out.Attr, mtime)
	out.SetTimeout(d.ttl)
	return 0
}

// setTimes sets the times and owner of an entry: its own time, else the
// mount's start.
func (m *mountFS) setTimes(a *fuse.Attr, t time.Time) {
	if t.IsZero() {
		t = m.started
	}
	a.SetTimes(&t, &t, &t)
	a.Uid, a.Gid = m.uid, m.gid
}

// sortChildren sorts entries by name, as lookups search them.
func sortChildren(cs []child) []child {
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

// symlink is the latest link of a view.
type symlink struct {
	fs.Inode
	m      *mountFS
	target string
	mtime  time.Time
}

var (
	_ fs.NodeReadlinker = (*symlink)(nil)
	_ fs.NodeGetattrer  = (*symlink)(nil)
)

func (l *symlink) Readlink(context.Context) ([]byte, syscall.Errno) { return []byte(l.target), 0 }

func (l *symlink) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFLNK | 0o777
	out.Nlink = 1
	out.Size = uint64(len(l.target))
	l.m.setTimes(&out.Attr, l.mtime)
	return 0
}
