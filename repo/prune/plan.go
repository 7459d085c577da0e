package prune

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// packInfo is what the plan knows of one pack.
type packInfo struct {
	size        int64 // file size; -1 when the index names a pack not stored
	usedBytes   int64
	unusedBytes int64
	usedBlobs   int
	action      action
	pinned      bool // under object lock: kept whatever it holds
}

type action int

const (
	keep action = iota
	repack
	remove
)

func (p *packInfo) unusedShare() float64 {
	total := p.usedBytes + p.unusedBytes
	if total == 0 {
		return 1
	}
	return float64(p.unusedBytes) / float64(total)
}

// plan decides, pack by pack, what happens.
type plan struct {
	r         *repo.Repository
	m         *marker
	opts      Options
	rep       *Report
	packs     map[pack.ID]*packInfo
	unindexed []pack.ID
	// unindexedSize are the file sizes of the unindexed packs.
	unindexedSize map[pack.ID]int64
	vanished      int // indexed packs that are not stored (and hold no used blob)
	// lockedIndex are the old index files under object lock (apply).
	lockedIndex map[backend.Handle]backend.LockState
	// copied counts the copies of each tree blob written by repacking so
	// far.
	copied map[pack.ID]int
}

// newPlan counts used and unused bytes per pack and chooses each pack's
// action. A data blob stored in several packs is used in one: the copy
// readers pick (Index.Lookup, the pack with the smallest ID); a tree blob
// in as many as writers keep copies of it (repo.TreeCopies), the first in
// the same order; other copies are unused.
func newPlan(ctx context.Context, r *repo.Repository, m *marker, opts Options, rep *Report) (*plan, error) {
	p := &plan{r: r, m: m, opts: opts, rep: rep, packs: map[pack.ID]*packInfo{}, copied: map[pack.ID]int{}, unindexedSize: map[pack.ID]int64{}}
	var prev pack.ID
	first, nth := true, 0
	r.Index().Each(func(id pack.ID, loc index.Location) bool {
		if first || id != prev {
			nth = 0
		} else {
			nth++
		}
		chosen := nth < repo.Copies(loc.Type)
		prev, first = id, false
		pi := p.packs[loc.Pack]
		if pi == nil {
			pi = &packInfo{size: -1}
			p.packs[loc.Pack] = pi
		}
		if chosen && m.used.Has(id) {
			pi.usedBytes += int64(loc.Length)
			pi.usedBlobs++
			rep.UsedBlobs++
			rep.UsedBytes += int64(loc.Length)
			if !m.direct.Has(id) {
				rep.BaseOnlyBlobs++
				rep.BaseOnlyBytes += int64(loc.Length)
			}
		} else {
			pi.unusedBytes += int64(loc.Length)
			rep.UnusedBlobs++
			rep.UnusedBytes += int64(loc.Length)
		}
		return true
	})
	err := r.Backend().List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		id, err := pack.ParseID(fi.Handle.Name)
		if err != nil {
			return nil
		}
		rep.Packs++
		rep.BytesBefore += fi.Size
		if pi := p.packs[id]; pi != nil {
			pi.size = fi.Size
		} else {
			p.unindexed = append(p.unindexed, id)
			p.unindexedSize[id] = fi.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	sortIDs(p.unindexed)
	rep.PacksUnindexed = len(p.unindexed)

	var candidates []pack.ID
	for id, pi := range p.packs {
		switch {
		case pi.size < 0 && pi.usedBlobs > 0:
			return nil, fmt.Errorf("prune: pack %s holds %d used blobs but is not stored: %w; nothing was changed. "+
				"Run `strata check`, then `strata repair index` and `strata repair snapshots --forget`",
				id.Short(), pi.usedBlobs, backend.ErrNotExist)
		case pi.size < 0:
			pi.action = remove // only its index entries remain; the new index drops them
			p.vanished++
		case pi.usedBlobs == 0:
			pi.action = remove
			rep.PacksDeleted++
		case pi.unusedShare() > opts.MaxUnused:
			candidates = append(candidates, id)
		default:
			rep.PacksKept++
		}
	}
	// The most wasteful packs first, so a bound on repacking buys the most
	// space; ties by ID, so runs are repeatable.
	sort.Slice(candidates, func(i, j int) bool {
		a, b := p.packs[candidates[i]], p.packs[candidates[j]]
		if sa, sb := a.unusedShare(), b.unusedShare(); sa != sb {
			return sa > sb
		}
		return bytes.Compare(candidates[i][:], candidates[j][:]) < 0
	})
	var budget int64
	for _, id := range candidates {
		pi := p.packs[id]
		if opts.MaxRepackBytes > 0 && budget+pi.size > opts.MaxRepackBytes {
			pi.action = keep
			rep.PacksKept++
			continue
		}
		budget += pi.size
		pi.action = repack
		rep.PacksRepacked++
	}
	if err := p.pinLocked(ctx); err != nil {
		return nil, fmt.Errorf("prune: asking for the object lock of the packs to remove: %w; nothing was changed", err)
	}
	p.repackStranded()
	return p, nil
}

// repackStranded repacks kept packs that hold an unused delta blob whose
// base the new index would not list (a forgotten hour's chunk that later
// hours stopped referencing, beside chunks they still use): its entry
// would name a blob nobody can decode, which check reports. Repacking
// copies only used blobs, and the bases of used blobs are used. It
// repeats because a pack turned from kept to repacked can strand deltas
// in other kept packs. MaxRepackBytes does not bound these repacks: the
// alternative is an index with entries that cannot be decoded.
func (p *plan) repackStranded() {
	for changed := true; changed; {
		changed = false
		p.r.Index().Each(func(id pack.ID, loc index.Location) bool {
			pi := p.packs[loc.Pack]
			if pi.action != keep || loc.Compression != pack.Delta || p.m.used.Has(id) || p.listed(loc.Base) {
				return true
			}
			if pi.pinned {
				// Cannot be repacked away: keep the base instead.
				if p.pinBases(loc.Base) {
					changed = true
				}
				return true
			}
			pi.action = repack
			p.rep.PacksKept--
			p.rep.PacksRepacked++
			changed = true
			return true
		})
	}
}

// listed reports whether the new index will list id so that it can be
// decoded: a used blob always (its used copy stays, and the bases of
// every copy are used); an unused one when a kept pack holds a copy whose
// base is listed too.
func (p *plan) listed(id pack.ID) bool {
	if p.m.used.Has(id) {
		return true
	}
	for _, loc := range p.r.Index().LookupAll(id) {
		if pi := p.packs[loc.Pack]; pi != nil && pi.action == keep && (loc.Compression != pack.Delta || p.listed(loc.Base)) {
			return true
		}
	}
	return false
}

// estimate fills in the figures a dry run can only predict: a repacked
// pack's used blobs move to new packs, whose headers are not counted.
func (p *plan) estimate() {
	for _, pi := range p.packs {
		switch pi.action {
		case keep:
			p.rep.BytesAfter += pi.size
			p.rep.UnusedAfter += pi.unusedBytes
		case repack:
			p.rep.BytesAfter += pi.usedBytes
			p.rep.RepackedBlobs += pi.usedBlobs
			p.rep.RepackedBytes += pi.usedBytes
		}
	}
}

// keptCopies counts the packs other than self that stay and hold a copy
// of id.
func (p *plan) keptCopies(id, self pack.ID) int {
	n := 0
	for _, loc := range p.r.Index().LookupAll(id) {
		if pi := p.packs[loc.Pack]; loc.Pack != self && pi != nil && pi.action == keep {
			n++
		}
	}
	return n
}

// keptElsewhere reports whether a pack that stays holds a copy of id.
func (p *plan) keptElsewhere(id, self pack.ID) bool {
	for _, loc := range p.r.Index().LookupAll(id) {
		if loc.Pack == self {
			continue
		}
		if pi := p.packs[loc.Pack]; pi != nil && pi.action == keep {
			return true
		}
	}
	return false
}

func sortIDs(ids []pack.ID) {
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
}
