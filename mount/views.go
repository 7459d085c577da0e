package mount

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The views (docs/design.md, "Mount"): every snapshot by its name under
// snapshots/, and again under tiers/<tier>/, tags/<tag>/ (once per tag)
// and hosts/<host>/, and by its short ID under ids/. Each view has a
// latest link to its newest snapshot.

// rootDir is the mount's root folder: the five views.
func (m *mountFS) rootDir() *dirNode {
	views := map[string]func(string) *dirNode{
		"snapshots": func(p string) *dirNode { return m.viewDir(p, m.snapList(p, nil, false)) },
		"ids":       func(p string) *dirNode { return m.viewDir(p, m.snapList(p, nil, true)) },
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

// snapList lists the snapshots that have key among keys(s) (all of them
// when keys is nil), by name or, with short, by short ID, and latest.
func (m *mountFS) snapList(p string, keep func(*snap) bool, short bool) func(ctx context.Context) ([]child, error) {
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
			cs = append(cs, child{name: name, mode: fuse.S_IFDIR, id: s.sn.ID.String(),
				node: func() fs.InodeEmbedder { return m.snapshotDir(p+"/"+name, s) }})
			newest = s
		}
		if newest != nil {
			target := newest.name
			if short {
				target = newest.short
			}
			cs = append(cs, child{name: "latest", mode: fuse.S_IFLNK, id: target,
				node: func() fs.InodeEmbedder { return &symlink{m: m, target: target, mtime: newest.sn.Time} }})
		}
		return sortChildren(cs)
	})
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
					return m.viewDir(p+"/"+name, m.snapList(p+"/"+name, func(s *snap) bool { return slices.Contains(keys(s), k) }, false))
				}})
			}
		}
		return sortChildren(cs)
	})
}
