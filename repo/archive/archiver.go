package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"strata/pack"
	"strata/repo"
)

// Repository is what a backup needs from a repository.
type Repository interface {
	BlobSaver
	SaveTree(ctx context.Context, t *repo.Tree) (pack.ID, error)
	LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error)
	Flush(ctx context.Context) error
	SaveSnapshot(ctx context.Context, sn *repo.Snapshot) error
	Config() repo.Config
}

// Options describe one backup.
type Options struct {
	Host    string // default: this machine's host name
	Tags    []string
	Tier    string
	Time    time.Time // snapshot time; zero means now
	Parent  *repo.Snapshot
	Force   bool // read every file even when it matches the parent
	Workers int  // zero means GOMAXPROCS
	// Counters, when set, receive live totals for a progress display.
	Counters *Counters
	// Exclude leaves entries out of a backup of paths.
	Exclude Exclusions
	// OnFile, when set, is told about each regular file of a backup of
	// paths: status "new", "modified" or "unchanged" (taken from the
	// parent unread), and its path. It is called from one goroutine.
	OnFile func(status, path string)
	// Logger receives notices meant for the user (a file that vanished
	// during the backup, say) as records at slog.LevelWarn; nil discards
	// them.
	Logger  *slog.Logger
	Program string // strata version, recorded in the snapshot
}

func (o Options) withDefaults() Options {
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Counters == nil {
		o.Counters = &Counters{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// StreamSource describes a stdin backup: "stdin:<name>".
func StreamSource(name string) string { return "stdin:" + name }

// FilesSource describes a backup of paths.
func FilesSource(paths []string) string { return "files:" + strings.Join(paths, " ") }

// FindParent returns the newest snapshot from host with the same source,
// or nil. sns must be sorted oldest first.
func FindParent(sns []*repo.Snapshot, host, source string) *repo.Snapshot {
	for i := len(sns) - 1; i >= 0; i-- {
		if sns[i].Host == host && sns[i].Source == source {
			return sns[i]
		}
	}
	return nil
}

type archiver struct {
	r       Repository
	opts    Options
	pipe    *Pipeline
	summary repo.Summary
}

func newArchiver(ctx context.Context, r Repository, opts Options) *archiver {
	return &archiver{r: r, opts: opts, pipe: NewPipeline(ctx, r, opts.Workers, opts.Counters)}
}

// BackupStream saves everything read from rd as one stream node named name
// and writes the snapshot.
func BackupStream(ctx context.Context, r Repository, rd io.Reader, name string, opts Options) (*repo.Snapshot, error) {
	opts = opts.withDefaults()
	if name == "" || strings.ContainsAny(name, "/\x00\n\r") || name == "." || name == ".." {
		return nil, fmt.Errorf("invalid stdin name %q: give a plain file name", name)
	}
	start := time.Now()
	a := newArchiver(ctx, r, opts)
	// Standard input is usually a database dump: cut it like a table, at
	// line ends, with small chunks (docs/design.md, "Defaults").
	content, size, err := a.pipe.SaveStream(ctx, newCtxReader(ctx, rd), r.Config().TableChunkParams(), nil)
	storeErr := a.pipe.Err()
	a.pipe.Close()
	if err != nil {
		if storeErr != nil && errors.Is(err, storeErr) {
			return nil, fmt.Errorf("storing stdin: %w", err)
		}
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	node := repo.Node{Name: name, Kind: repo.NodeStream, Mode: 0o600, ModTime: a.snapshotTime(), Size: size, Content: content}
	a.summary.FilesNew = 1
	root, err := a.saveTree(ctx, &repo.Tree{Nodes: []repo.Node{node}})
	if err != nil {
		return nil, err
	}
	return a.finish(ctx, root, StreamSource(name), []string{"/" + name}, start)
}

// BackupPaths saves files and folders and writes the snapshot. Paths are
// stored under their absolute names, as restic does.
func BackupPaths(ctx context.Context, r Repository, paths []string, opts Options) (*repo.Snapshot, error) {
	opts = opts.withDefaults()
	if len(paths) == 0 {
		return nil, errors.New("nothing to back up: give at least one path")
	}
	start := time.Now()
	top := &vdir{children: map[string]*vdir{}}
	var abs []string
	for _, p := range paths {
		ap, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(ap); err != nil {
			return nil, fmt.Errorf("cannot back up %s: %w", p, err)
		}
		abs = append(abs, ap)
		top.add(ap)
	}
	sort.Strings(abs)
	a := newArchiver(ctx, r, opts)
	var parentRoot *repo.Tree
	if opts.Parent != nil && !opts.Force {
		t, err := r.LoadTree(ctx, opts.Parent.Tree)
		if err != nil {
			opts.Logger.Warn(fmt.Sprintf("reading every file: parent snapshot %s unreadable: %v", opts.Parent.ID.Short(), err))
		} else {
			parentRoot = t
		}
	}
	// The scan runs beside the backup, as restic's scanner does, so that
	// a progress display learns the totals early. A backup that succeeds
	// waits for it (it reads metadata only, and is usually far ahead), so
	// the totals are final when BackupPaths returns; a failed one stops it.
	scanCtx, stopScan := context.WithCancel(ctx)
	defer stopScan()
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		scan(scanCtx, abs, a.opts.Exclude, a.opts.Counters)
	}()
	root, err := a.saveVirtual(ctx, top, "/", parentRoot)
	if err != nil {
		stopScan()
	}
	<-scanned
	a.pipe.Close()
	if err != nil {
		return nil, err
	}
	return a.finish(ctx, root, FilesSource(abs), abs, start)
}

func (a *archiver) snapshotTime() time.Time {
	if a.opts.Time.IsZero() {
		return time.Now()
	}
	return a.opts.Time
}

func (a *archiver) saveTree(ctx context.Context, t *repo.Tree) (pack.ID, error) {
	id, err := a.r.SaveTree(ctx, t)
	if err != nil {
		return id, fmt.Errorf("saving tree: %w", err)
	}
	return id, nil
}

// finish writes packs, then the index, then the snapshot.
func (a *archiver) finish(ctx context.Context, root pack.ID, source string, paths []string, start time.Time) (*repo.Snapshot, error) {
	if err := a.r.Flush(ctx); err != nil {
		return nil, err
	}
	c := a.opts.Counters
	a.summary.BytesRead = c.BytesRead.Load()
	a.summary.BytesAdded = c.BytesAdded.Load()
	a.summary.BlobsAdded = c.BlobsAdded.Load()
	a.summary.Seconds = time.Since(start).Seconds()
	sn := &repo.Snapshot{
		Time: a.snapshotTime().Round(0), Host: a.opts.Host, Tags: a.opts.Tags, Tier: a.opts.Tier,
		Source: source, Paths: paths, Tree: root, Summary: a.summary, Program: a.opts.Program,
	}
	if u, err := user.Current(); err == nil {
		sn.Username = u.Username
	}
	if a.opts.Parent != nil {
		id := a.opts.Parent.ID
		sn.Parent = &id
	}
	if err := a.r.SaveSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	return sn, nil
}

// vdir is a folder on the way from / to the paths being saved.
type vdir struct {
	children map[string]*vdir
	real     string // set when this folder or file is itself a saved path
}

func (d *vdir) add(abs string) {
	cur := d
	for _, part := range strings.Split(strings.TrimPrefix(abs, "/"), "/") {
		if part == "" {
			continue
		}
		if cur.real != "" {
			return // an ancestor is saved whole
		}
		next := cur.children[part]
		if next == nil {
			next = &vdir{children: map[string]*vdir{}}
			cur.children[part] = next
		}
		cur = next
	}
	cur.real = abs
	cur.children = map[string]*vdir{}
}

func (a *archiver) saveVirtual(ctx context.Context, d *vdir, path string, parent *repo.Tree) (pack.ID, error) {
	names := make([]string, 0, len(d.children))
	for name := range d.children {
		names = append(names, name)
	}
	sort.Strings(names)
	tree := &repo.Tree{}
	for _, name := range names {
		child := d.children[name]
		fsPath := filepath.Join(path, name)
		var pn *repo.Node
		if parent != nil {
			pn = parent.Find(name)
		}
		if child.real != "" {
			node, ok, err := a.saveItem(ctx, fsPath, name, pn, 0)
			if err != nil {
				return pack.ID{}, err
			}
			if ok {
				tree.Nodes = append(tree.Nodes, node)
			}
			continue
		}
		fi, err := os.Lstat(fsPath)
		if err != nil {
			return pack.ID{}, fmt.Errorf("reading %s: %w", fsPath, err)
		}
		sub, err := a.saveVirtual(ctx, child, fsPath, a.parentSubtree(ctx, pn))
		if err != nil {
			return pack.ID{}, err
		}
		node := metaNode(name, fi)
		node.Kind, node.Subtree, node.Size = repo.NodeDir, &sub, 0
		tree.Nodes = append(tree.Nodes, node)
	}
	return a.saveTree(ctx, tree)
}

func (a *archiver) parentSubtree(ctx context.Context, pn *repo.Node) *repo.Tree {
	if pn == nil || pn.Kind != repo.NodeDir || pn.Subtree == nil {
		return nil
	}
	t, err := a.r.LoadTree(ctx, *pn.Subtree)
	if err != nil {
		a.opts.Logger.Warn(fmt.Sprintf("parent tree %s unreadable, reading the folder's files again: %v", pn.Subtree.Short(), err))
		return nil
	}
	return t
}

// saveItem saves one file system entry. ok is false for entries that are
// skipped (sockets, devices, files that vanished).
//
// parentDev is the device of the dir holding the entry (0 for a path given
// to BackupPaths); entries that Options.Exclude names are skipped too.
func (a *archiver) saveItem(ctx context.Context, fsPath, name string, pn *repo.Node, parentDev uint64) (repo.Node, bool, error) {
	if err := ctx.Err(); err != nil {
		return repo.Node{}, false, err
	}
	fi, err := os.Lstat(fsPath)
	if errors.Is(err, fs.ErrNotExist) {
		a.opts.Logger.Warn(fmt.Sprintf("skipping %s: it vanished during the backup", fsPath))
		return repo.Node{}, false, nil
	}
	if err != nil {
		return repo.Node{}, false, fmt.Errorf("reading %s: %w", fsPath, err)
	}
	if a.opts.Exclude.skip(fsPath, fi, parentDev) {
		return repo.Node{}, false, nil
	}
	node := metaNode(name, fi)
	switch {
	case fi.Mode().IsRegular():
		node.Kind = repo.NodeFile
		if pn != nil && pn.Kind == repo.NodeFile && unchanged(pn, &node) {
			node.Content = pn.Content
			a.onFile("unchanged", fsPath)
			a.summary.FilesUnchanged++
			a.opts.Counters.BytesUnchanged.Add(node.Size)
			a.opts.Counters.Files.Add(1)
			return node, true, nil
		}
		if pn != nil {
			a.onFile("modified", fsPath)
			a.summary.FilesChanged++
		} else {
			a.onFile("new", fsPath)
			a.summary.FilesNew++
		}
		content, size, err := a.saveFile(ctx, fsPath)
		if errors.Is(err, fs.ErrNotExist) {
			a.opts.Logger.Warn(fmt.Sprintf("skipping %s: it vanished during the backup", fsPath))
			return repo.Node{}, false, nil
		}
		if err != nil {
			return repo.Node{}, false, err
		}
		a.opts.Counters.Files.Add(1) // done: progress counts finished files
		node.Content, node.Size = content, size
	case fi.IsDir():
		entries, err := os.ReadDir(fsPath)
		if err != nil {
			return repo.Node{}, false, fmt.Errorf("reading folder %s: %w", fsPath, err)
		}
		if a.opts.Exclude.Caches && isCacheDir(fsPath) {
			entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() != CacheDirTag })
		}
		parent := a.parentSubtree(ctx, pn)
		tree := &repo.Tree{}
		for _, e := range entries {
			var cpn *repo.Node
			if parent != nil {
				cpn = parent.Find(e.Name())
			}
			child, ok, err := a.saveItem(ctx, filepath.Join(fsPath, e.Name()), e.Name(), cpn, device(fi))
			if err != nil {
				return repo.Node{}, false, err
			}
			if ok {
				tree.Nodes = append(tree.Nodes, child)
			}
		}
		sub, err := a.saveTree(ctx, tree)
		if err != nil {
			return repo.Node{}, false, err
		}
		node.Kind, node.Subtree, node.Size = repo.NodeDir, &sub, 0
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(fsPath)
		if err != nil {
			return repo.Node{}, false, fmt.Errorf("reading link %s: %w", fsPath, err)
		}
		node.Kind, node.Target, node.Size = repo.NodeSymlink, target, 0
	default:
		a.opts.Logger.Warn(fmt.Sprintf("skipping %s: %s files are not backed up", fsPath, fi.Mode().Type()))
		return repo.Node{}, false, nil
	}
	return node, true, nil
}

func (a *archiver) saveFile(ctx context.Context, fsPath string) ([]pack.ID, uint64, error) {
	f, err := os.Open(fsPath)
	if err != nil {
		return nil, 0, fmt.Errorf("opening %s: %w", fsPath, err)
	}
	defer f.Close()
	content, size, err := a.pipe.SaveStream(ctx, f, a.r.Config().ChunkParams(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("saving %s: %w", fsPath, err)
	}
	return content, size, nil
}

func metaNode(name string, fi fs.FileInfo) repo.Node {
	n := repo.Node{Name: name, Mode: uint32(fi.Mode().Perm()), ModTime: fi.ModTime().UTC(), Size: uint64(fi.Size())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.Inode, n.Device = st.Ino, uint64(st.Dev)
	}
	return n
}

// unchanged is the parent-snapshot shortcut: size, modification time and
// inode all match, so the file's content is taken from the parent.
func unchanged(old, cur *repo.Node) bool {
	return old.Size == cur.Size && old.ModTime.Equal(cur.ModTime) && old.Inode == cur.Inode
}

func (a *archiver) onFile(status, path string) {
	if a.opts.OnFile != nil {
		a.opts.OnFile(status, path)
	}
}
