package mount

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The views (docs/design.md, "Mount"): every snapshot's folder by its
// name under snapshots/, and a symlink to that folder under
// tiers/<tier>/, tags/<tag>/ (once per tag) and hosts/<host>/ by the same
// name, and under ids/ by its short ID. Each view has a latest link to
// its newest snapshot. The links keep a snapshot's folder in one place,
// so a walk that does not follow symlinks (ls -R, find, du) visits each
// snapshot once, not once per view, and the kernel caches it once.

// rootDir is the mount's root folder: the five views.
func (m *mountFS) rootDir() *dirNode {
	views := map[string]func(string) *dirNode{
		"snapshots": func(p string) *dirNode { return m.viewDir(p, m.snapList(p, nil, false, "")) },
		"ids":       func(p string) *dirNode { return m.viewDir(p, m.snapList(p, nil, true, "../snapshots/")) },
		"tiers": func(p string) *dirNode {
			return m.viewDir(p, m.groupList(p, func(s *snap) []string {
				if s.sn.Tier == "" {
					return nil
				}
				return []string{s.sn.Tier}
			}))
		},
		"tags": func(p string) *dirNode {
			return m.viewDir(p, m.groupList(p, func(s *snap) []string { return s.sn.Tags }))
		},
		"hosts": func(p string) *dirNode {
			return m.viewDir(p, m.groupList(p, func(s *snap) []string { return []string{s.sn.Host} }))
		},
	}
	var cs []child
	for name, mk := range views {
		cs = append(cs, child{name: name, mode: fuse.S_IFDIR, node: func() fs.InodeEmbedder { return mk("/" + name) }})
	}
	sortChildren(cs)
	return &dirNode{m: m, ttl: snapshotTTL, list: func(context.Context) ([]child, error) { return cs, nil }}
}

// viewDir is a folder whose entries change with the snapshots: the
// kernel keeps them for Options.Refresh.
func (m *mountFS) viewDir(p string, list func(ctx context.Context) ([]child, error)) *dirNode {
	// The kernel keeps a folder's listing until its mtime changes
	// (noopendir.go): a view's is when the listing of snapshots changed.
	return &dirNode{m: m, path: p, ttl: m.opts.Refresh, list: list,
		mtimeOf: func(ctx context.Context) time.Time { return m.cat.current(ctx).made }}
}

// snapList lists the snapshots that keep keeps (all of them when keep is
// nil), by name or, with short, by short ID, and latest. With toSnapshots
// empty each is its folder (snapshots/); else each is a symlink to its
// folder, toSnapshots+name: the path from the view's folder to
// snapshots/.
func (m *mountFS) snapList(p string, keep func(*snap) bool, short bool, toSnapshots string) func(ctx context.Context) ([]child, error) {
	return memoized(m, func(st *state) []child {
		var cs []child
		var newest *snap
		for _, s := range st.snaps {
			if keep != nil && !keep(s) {
				continue
			}
			name := s.name
			if short {
				name = s.short
			}
			if toSnapshots == "" {
				cs = append(cs, child{name: name, mode: fuse.S_IFDIR, id: s.sn.ID.String(),
					node: func() fs.InodeEmbedder { return m.snapshotDir(p+"/"+name, s) }})
			} else {
				cs = append(cs, linkTo(m, name, toSnapshots+s.name, s.sn.Time))
			}
			newest = s
		}
		if newest != nil {
			target := newest.name
			if short {
				target = newest.short
			}
			cs = append(cs, linkTo(m, "latest", target, newest.sn.Time))
		}
		return sortChildren(cs)
	})
}

// linkTo is a view's entry name: a symlink to target.
func linkTo(m *mountFS, name, target string, mtime time.Time) child {
	return child{name: name, mode: fuse.S_IFLNK, id: target,
		node: func() fs.InodeEmbedder { return &symlink{m: m, target: target, mtime: mtime} }}
}

// memoized lists a view with list, again only when the catalog's
// listing changed: every lookup in a view of n snapshots would otherwise
// build its n entries again (a listing of every view, n² work).
func memoized(m *mountFS, list func(st *state) []child) func(ctx context.Context) ([]child, error) {
	var mu sync.Mutex
	var last *state
	var cs []child
	return func(ctx context.Context) ([]child, error) {
		st := m.cat.current(ctx)
		mu.Lock()
		defer mu.Unlock()
		if st != last {
			cs, last = list(st), st
		}
		return cs, nil
	}
}

// groupList lists the tiers, tags or hosts (keys of each snapshot), each a
// folder listing its snapshots.
func (m *mountFS) groupList(p string, keys func(*snap) []string) func(ctx context.Context) ([]child, error) {
	return memoized(m, func(st *state) []child {
		seen := map[string]bool{}
		var cs []child
		for _, s := range st.snaps {
			for _, k := range keys(s) {
				if seen[k] {
					continue
				}
				seen[k] = true
				name := escapeName(k)
				cs = append(cs, child{name: name, mode: fuse.S_IFDIR, node: func() fs.InodeEmbedder {
					return m.viewDir(p+"/"+name, m.snapList(p+"/"+name, func(s *snap) bool { return slices.Contains(keys(s), k) }, false, "../../snapshots/"))
				}})
			}
		}
		return sortChildren(cs)
	})
}
