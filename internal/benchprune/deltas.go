package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend/local"
)

// deltaReport measures what prune keeps only as delta bases, and what
// re-encoding would change: a kept blob whose delta base no snapshot
// references (a frontier blob) could be stored again as a plain blob,
// and once every frontier above a base-only blob is, that base can go.
type deltaReport struct {
	Direct, BaseOnly   int   // blobs referenced by snapshots; blobs kept only as bases
	DirectBytes        int64 // sealed bytes
	BaseOnlyBytes      int64
	Frontier           int   // kept delta blobs whose base is base-only
	FrontierBytes      int64 // their sealed bytes now
	FrontierPlainBytes int64 // their sealed bytes as plain blobs
	Components         int   // trees of base-only blobs hanging off a plain root or a referenced blob
	AllGain            int64 // freed minus added when every frontier blob is re-encoded
	BestGain           int64 // the same, re-encoding only where it frees more than it adds
	BestFrontier       int   // frontier blobs that choice re-encodes
	EncodeSeconds      float64
}

// analyseDeltas reads the pruned repository in dir in-process (after
// every child has been measured, so this process's memory does not count
// against them).
func analyseDeltas(ctx context.Context, dir, pwFile string) (deltaReport, error) {
	var d deltaReport
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return d, err
	}
	be, err := local.Open(dir)
	if err != nil {
		return d, err
	}
	r, err := repo.Open(ctx, be, strings.TrimRight(string(pw), "\n"), repo.Options{})
	if err != nil {
		return d, err
	}
	lock, err := r.Lock(ctx, false, "benchprune deltas")
	if err != nil {
		return d, err
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	if err := r.LoadIndex(ctx); err != nil {
		return d, err
	}
	idx := r.Index()

	direct, err := referenced(ctx, r)
	if err != nil {
		return d, err
	}
	// The base-only blobs form a forest: each has one base (the copy
	// readers use), and its children are the blobs stored against it.
	type node struct {
		bytes    int64
		children []pack.ID
		cost     int64 // re-encoding the frontier blobs stored against it
		frontier int
	}
	nodes := map[pack.ID]*node{}
	var frontier []pack.ID
	for id := range direct {
		loc, _ := idx.Lookup(id)
		d.Direct++
		d.DirectBytes += int64(loc.Length)
		if loc.Compression == pack.Delta && !direct[loc.Base] {
			frontier = append(frontier, id)
		}
		for loc.Compression == pack.Delta && !direct[loc.Base] {
			base := loc.Base
			if nodes[base] != nil {
				break
			}
			loc, _ = idx.Lookup(base)
			nodes[base] = &node{bytes: int64(loc.Length)}
		}
	}
	var roots []pack.ID
	for id, n := range nodes {
		d.BaseOnly++
		d.BaseOnlyBytes += n.bytes
		loc, _ := idx.Lookup(id)
		if p := nodes[loc.Base]; loc.Compression == pack.Delta && p != nil {
			p.children = append(p.children, id)
		} else {
			roots = append(roots, id)
		}
	}
	d.Components = len(roots)

	enc, err := pack.NewEncoder(r.Key(), zstd.EncoderLevel(r.Config().ZstdLevel))
	if err != nil {
		return d, err
	}
	began := time.Now()
	for _, id := range frontier {
		loc, _ := idx.Lookup(id)
		plain, err := r.LoadBlob(ctx, id)
		if err != nil {
			return d, fmt.Errorf("loading frontier blob %s: %w", id.Short(), err)
		}
		sealed, _, err := enc.Encode(nil, plain, nil)
		if err != nil {
			return d, err
		}
		d.Frontier++
		d.FrontierBytes += int64(loc.Length)
		d.FrontierPlainBytes += int64(len(sealed))
		n := nodes[loc.Base]
		n.cost += int64(len(sealed)) - int64(loc.Length)
		n.frontier++
	}
	d.EncodeSeconds = time.Since(began).Seconds()

	// Freeing a base-only blob means freeing every blob stored against
	// it, so per blob the choice is its whole subtree or the best of its
	// children's.
	var full func(id pack.ID) (gain int64, frontier int)
	full = func(id pack.ID) (int64, int) {
		n := nodes[id]
		gain, f := n.bytes-n.cost, n.frontier
		for _, c := range n.children {
			g, cf := full(c)
			gain, f = gain+g, f+cf
		}
		return gain, f
	}
	var best func(id pack.ID) (gain int64, frontier int)
	best = func(id pack.ID) (int64, int) {
		var gain int64
		var f int
		for _, c := range nodes[id].children {
			g, cf := best(c)
			gain, f = gain+g, f+cf
		}
		if g, cf := full(id); g > gain {
			return g, cf
		}
		return gain, f
	}
	for _, id := range roots {
		g, _ := full(id)
		d.AllGain += g
		g, f := best(id)
		d.BestGain += g
		d.BestFrontier += f
	}
	return d, nil
}

// referenced walks every snapshot's trees and returns the blobs they
// reference (trees and content).
func referenced(ctx context.Context, r *repo.Repository) (map[pack.ID]bool, error) {
	snaps, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[pack.ID]bool{}
	w := repo.Walker{
		Loader: r,
		Tree: func(id pack.ID, _ string) error {
			if seen[id] {
				return fs.SkipDir
			}
			seen[id] = true
			return nil
		},
		Log: func(_ string, _ *repo.Node, id pack.ID) error {
			seen[id] = true
			return fs.SkipDir
		},
		Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
			seen[c.ID] = true
			return nil
		},
	}
	for _, sn := range snaps {
		if err := w.Walk(ctx, sn.Tree, "/"); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		}
	}
	return seen, nil
}
