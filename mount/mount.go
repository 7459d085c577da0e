package mount

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"strata/pack"
	"strata/repo"
)

// Options configure a mount.
type Options struct {
	// Refresh is how long a listing of the snapshots is trusted: a view
	// read later lists the repository's snapshots again, so new ones
	// appear and forgotten ones disappear. Default 5s.
	Refresh time.Duration
	// NoLock takes no lock at all, not even the brief shared lock under
	// which the mount reloads the index (read-only storage, --no-lock).
	NoLock bool
	// CacheBytes bounds the chunks kept in memory for reads. Default
	// 64 MiB.
	CacheBytes int64
	// ReadAhead is how many chunks ahead of a sequential reader load in
	// the background. Default 8, as restore.DefaultWorkers.
	ReadAhead int
	// MeasureMax: a converted file (.csv, .jsonl, a SQLite table's .tsv)
	// of a table whose stored text is at most this many bytes shows its
	// exact size from the first stat, which converts the table once,
	// without keeping it, to count the bytes (so tar, SMB clients and
	// others that copy as many bytes as stat says get them all). A larger
	// one shows 0 bytes at its first stat, which queues it to be measured
	// in the background (one at a time), and its exact size once measured
	// or once a reader reached its end; reads bypass the page cache
	// (direct I/O) so they go on to the real end whatever the size said.
	// Default 16 MiB; negative: measure none, not even in the background.
	MeasureMax int64
	// Logf receives what the mount cannot say through an errno: why a
	// read failed with EIO, snapshots it skipped, a lock it waited for.
	Logf func(format string, args ...any)
	// Debug logs every FUSE request (go-fuse's debug output).
	Debug bool
}

// DefaultMeasureMax is Options.MeasureMax's default: the CSV of a table
// of 24 MB took 0.6 s to measure under load, its JSON Lines 5.9 s
// (docs/benchmarks.md, "Mount"), so a first stat waits a few seconds at
// most.
const DefaultMeasureMax = 16 << 20

func (o Options) withDefaults() Options {
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 64 << 20
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = 8
	}
	if o.MeasureMax == 0 {
		o.MeasureMax = DefaultMeasureMax
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// snapshotTTL is how long the kernel keeps what lies inside a snapshot:
// a snapshot never changes, so long; only the views change.
const snapshotTTL = time.Hour

// mountFS is what every node of the mount shares.
type mountFS struct {
	r       *repo.Repository
	opts    Options
	cat     *catalog
	chunks  *chunkCache
	ctx     context.Context
	started time.Time
	uid     uint32
	gid     uint32

	measurer *measurer

	trees *lru[pack.ID, *repo.Tree]
	pages *lru[pack.ID, *repo.Page]
}

// Mount mounts the snapshots of r at dir, read-only, and serves them
// until the returned server is unmounted (Server.Unmount, or
// `fusermount3 -u DIR`) or ctx ends. r needs no index loaded: the mount
// loads it, under a brief shared lock, whenever the repository's index
// files change.
func Mount(ctx context.Context, r *repo.Repository, dir string, opts Options) (*fuse.Server, error) {
	opts = opts.withDefaults()
	m := &mountFS{r: r, opts: opts, ctx: ctx, started: time.Now(),
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		trees: newLRU[pack.ID, *repo.Tree](4096), pages: newLRU[pack.ID, *repo.Page](1024)}
	m.cat = newCatalog(r, opts)
	m.measurer = newMeasurer()
	m.chunks = newChunkCache(ctx, m.loadBlob, opts.CacheBytes, opts.ReadAhead)
	// The first listing, before mounting: a repository that cannot be
	// read fails the command instead of showing empty views.
	if err := m.cat.refresh(ctx, false); err != nil {
		return nil, err
	}
	entry, attr, negative := opts.Refresh, opts.Refresh, opts.Refresh
	mo := fuse.MountOptions{
		FsName:        "strata",
		Name:          "strata",
		Options:       []string{"ro", "default_permissions"},
		MaxReadAhead:  1 << 20,
		DisableXAttrs: true,
		// READDIRPLUS, always (go-fuse does not ask for the kernel's
		// "auto" mode): it carries the attributes of a folder's
		// subfolders, and only theirs (dirHandle.Lookup).
		Debug: opts.Debug,
	}
	raw := fs.NewNodeFS(m.rootDir(), &fs.Options{
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &negative,
		UID:             m.uid,
		GID:             m.gid,
	})
	nod := &noOpendir{RawFileSystem: raw}
	server, err := fuse.NewServer(nod, dir, &mo)
	if err != nil {
		return nil, fmt.Errorf("mounting at %s: %w", dir, err)
	}
	nod.server = server
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		_ = server.Unmount()
		return nil, fmt.Errorf("mounting at %s: %w", dir, err)
	}
	go m.measurer.run(ctx, opts.Logf)
	return server, nil
}

// loadBlob loads a data blob (verified against its ID by the
// repository). A blob the index no longer places, or whose pack is gone,
// may have moved: a prune repacked it while the mount read without a
// lock. The index is then loaded again and the blob tried once more.
func (m *mountFS) loadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	b, err := m.r.LoadBlob(ctx, id)
	if err == nil || ctx.Err() != nil || !moved(err) {
		return b, err
	}
	if rerr := m.cat.refresh(ctx, true); rerr != nil {
		return nil, fmt.Errorf("%w (loading the index again: %v)", err, rerr)
	}
	return m.r.LoadBlob(ctx, id)
}

// chunkData returns the bytes of chunk c, its change log's patch applied.
func (m *mountFS) chunkData(ctx context.Context, c chunkAt) ([]byte, error) {
	data, err := m.chunks.get(ctx, c.id)
	if err != nil || len(c.patch) == 0 {
		return data, err
	}
	return c.patch.Apply(data)
}

// moved reports whether err says a blob is not where the index placed
// it.
func moved(err error) bool {
	return errors.Is(err, repo.ErrBlobNotFound) || errors.Is(err, os.ErrNotExist) || repo.IsDamage(err)
}

// tree returns the decoded tree blob id, from the tree cache.
func (m *mountFS) tree(ctx context.Context, id pack.ID) (*repo.Tree, error) {
	if t, ok := m.trees.get(id); ok {
		return t, nil
	}
	b, err := m.loadBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	t, err := repo.DecodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w: %v", id.Short(), repo.ErrDamaged, err)
	}
	m.trees.put(id, t)
	return t, nil
}

// page returns the decoded page id of a table's chunk list.
func (m *mountFS) page(ctx context.Context, id pack.ID) (*repo.Page, error) {
	if p, ok := m.pages.get(id); ok {
		return p, nil
	}
	b, err := m.loadBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := repo.DecodePage(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", repo.ErrDamaged, err)
	}
	m.pages.put(id, p)
	return p, nil
}

// failed logs why an operation on path failed and returns EIO: a reader
// sees an I/O error, never wrong or missing bytes presented as content.
func (m *mountFS) failed(path string, err error) syscall.Errno {
	if errors.Is(err, context.Canceled) {
		return syscall.EINTR
	}
	hint := ""
	if errors.Is(err, repo.ErrBlobNotFound) {
		hint = " (the repository no longer holds this data: a prune removed it after the snapshot was forgotten, or it was lost; strata check tells which)"
	}
	m.opts.Logf("%s: %v%s", path, err, hint)
	return syscall.EIO
}

// ino is the inode number of the node at mount path p: stable, so the
// kernel's cache of a file's pages stays valid across lookups.
func ino(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	return h.Sum64() | 1<<63 // clear of go-fuse's root (1)
}

// lru is a small cache of decoded trees and pages, bounded in entries.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[K]*list.Element
}

type lruItem[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(lruItem[K, V]).val, true
	}
	var zero V
	return zero, false
}

func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.order.PushFront(lruItem[K, V]{k, v})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(lruItem[K, V]).key)
	}
}
