package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"strata/pack"
	"strata/repo"
)

// BlobLoader is what this package needs of a repository: blobs by ID,
// verified against their ID, and decoded trees. *repo.Repository
// implements it.
type BlobLoader interface {
	LoadBlob(ctx context.Context, id pack.ID) ([]byte, error)
	LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error)
}

// Walk calls fn for every node below the tree root, depth first, each
// folder's nodes in name order, a dir before its content. path is the
// node's snapshot path ("/tmp/data/a.csv"). When fn returns fs.SkipDir for
// a dir, its content is skipped; for another node, the rest of its folder
// is skipped. fs.SkipAll ends the walk without an error; any other error
// ends it and is returned unchanged.
func Walk(ctx context.Context, loader BlobLoader, root pack.ID, fn func(path string, n *repo.Node) error) error {
	w := &walker{loader: loader, v: visitor{enter: fn, leaf: fn}}
	err := w.walk(ctx, root, "/")
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// FindNode returns the node at snapshot path p ("/tmp/data/a.csv"; the
// leading slash may be left out). For "/" it returns a dir node without a
// name whose Subtree is root. A missing path is an error matching
// ErrNotFound.
func FindNode(ctx context.Context, loader BlobLoader, root pack.ID, p string) (*repo.Node, error) {
	p = cleanPath(p)
	if p == "/" {
		id := root
		return &repo.Node{Kind: repo.NodeDir, Subtree: &id}, nil
	}
	tree, dir := root, "/"
	var n *repo.Node
	for _, name := range strings.Split(p[1:], "/") {
		if n != nil {
			if n.Kind != repo.NodeDir {
				return nil, &notFoundError{path: p}
			}
			tree = *n.Subtree
		}
		t, err := loader.LoadTree(ctx, tree)
		if err != nil {
			return nil, fmt.Errorf("reading the tree of %s: %w", dir, err)
		}
		if n = t.Find(name); n == nil {
			return nil, &notFoundError{path: p}
		}
		if err := checkNode(n); err != nil {
			return nil, fmt.Errorf("tree %s of %s: %w", tree.Short(), dir, err)
		}
		dir = path.Join(dir, name)
	}
	found := *n
	return &found, nil
}

// cleanPath turns a user's snapshot path into the form Walk reports:
// absolute, slash-separated, without "." or ".." or a trailing slash.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// visitor receives a walk. A nil function is skipped.
type visitor struct {
	enter func(path string, n *repo.Node) error // a dir, before its content
	leave func(path string, n *repo.Node) error // a dir, after its content
	leaf  func(path string, n *repo.Node) error // any other node
}

// walker walks the trees below one tree, in Walk's order, telling its
// visitor about the nodes sel selects and about the dirs that hold them.
// A dir that is not selected itself is entered only when its first
// selected node is found, so an include pattern creates the parent dirs of
// what it matches and no others.
type walker struct {
	loader BlobLoader
	sel    *selector // nil selects every node
	v      visitor
}

// frame is a dir on the way down.
type frame struct {
	path    string
	node    *repo.Node
	parent  *frame
	tree    pack.ID // the dir's tree blob
	all     bool    // the dir is selected, and so is all it holds
	entered bool    // the visitor was told
}

// walk walks the tree id, whose snapshot path is base; base itself is not
// reported.
func (w *walker) walk(ctx context.Context, id pack.ID, base string) error {
	stack := []*frame{{path: base, entered: true, all: w.sel.includesAll()}}
	rw := repo.Walker{
		Loader: w.loader,
		Tree: func(id pack.ID, _ string) error {
			stack[len(stack)-1].tree = id
			return nil
		},
		Node: func(p string, n *repo.Node) error {
			dir := stack[len(stack)-1]
			if err := checkNode(n); err != nil {
				return fmt.Errorf("tree %s of %s: %w", dir.tree.Short(), dir.path, err)
			}
			if w.sel.excluded(p) {
				if n.Kind == repo.NodeDir {
					return fs.SkipDir
				}
				return nil
			}
			selected := dir.all || w.sel.match(p)
			if n.Kind == repo.NodeDir {
				if !selected && !w.sel.mayContain(p) {
					return fs.SkipDir
				}
				sub := &frame{path: p, node: n, parent: dir, all: selected}
				if selected {
					if err := w.enter(sub); err != nil {
						return err
					}
				}
				stack = append(stack, sub)
				return nil
			}
			if !selected {
				return nil
			}
			if err := w.enter(dir); err != nil {
				return err
			}
			if w.v.leaf != nil {
				return w.v.leaf(p, n)
			}
			return nil
		},
		NodeDone: func(p string, n *repo.Node) error {
			if n.Kind != repo.NodeDir {
				return nil
			}
			sub := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if sub.entered && w.v.leave != nil {
				return w.v.leave(p, n)
			}
			return nil
		},
	}
	return rw.Walk(ctx, id, base)
}

// enter tells the visitor about f and the dirs above it, once each.
func (w *walker) enter(f *frame) error {
	if f.entered {
		return nil
	}
	if err := w.enter(f.parent); err != nil {
		return err
	}
	f.entered = true
	if w.v.enter == nil {
		return nil
	}
	return w.v.enter(f.path, f.node)
}

// checkNode repeats the checks of repo.DecodeTree that keep a restore
// inside its target, so they hold whatever BlobLoader decoded the tree.
func checkNode(n *repo.Node) error {
	name := n.Name
	if repo.CheckNodeName(name) != nil || strings.ContainsRune(name, filepath.Separator) || !filepath.IsLocal(name) {
		return fmt.Errorf("%w %q", ErrUnsafeName, name)
	}
	switch n.Kind {
	case repo.NodeDir:
		if n.Subtree == nil {
			return fmt.Errorf("dir %q has no subtree", name)
		}
	case repo.NodeFile, repo.NodeStream, repo.NodeTable, repo.NodeSymlink:
	default:
		return fmt.Errorf("node %q has unknown kind %q", name, n.Kind)
	}
	return nil
}

// hasContent reports whether n's bytes are its data blobs.
func hasContent(n *repo.Node) bool {
	return n.Kind == repo.NodeFile || n.Kind == repo.NodeStream || n.Kind == repo.NodeTable
}
