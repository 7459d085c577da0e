package verify

import (
	"fmt"
	"slices"
	"strings"

	"strata/pack"
)

// lossFinder decides which blobs are lost: no copy of them can be loaded.
// It runs after the pack checks, on their results.
type lossFinder struct {
	c *checker
	// withUnloadable counts the bases that failed to load while deltas
	// were verified as lost too.
	withUnloadable bool
	memo           map[pack.ID]bool
}

func newLossFinder(c *checker, withUnloadable bool) *lossFinder {
	return &lossFinder{c: c, withUnloadable: withUnloadable, memo: map[pack.ID]bool{}}
}

// lost reports whether blob id cannot be loaded: it is not indexed, or
// every index entry of it is unusable (its pack is missing, the entry
// differs from the pack header, or the blob failed verification there) or
// is a delta blob whose base is lost.
func (l *lossFinder) lost(id pack.ID) bool {
	if v, ok := l.memo[id]; ok {
		return v
	}
	if _, ok := l.c.unloadable[id]; ok && l.withUnloadable {
		l.memo[id] = true
		return true
	}
	// A chain of bases that leads back here (which only a damaged index
	// could describe) counts as lost.
	l.memo[id] = true
	lost := true
	for _, loc := range l.c.idx.LookupAll(id) {
		if _, bad := l.c.badLocs[blobInPack{id, loc.Pack}]; bad {
			continue
		}
		if loc.Compression == pack.Delta && l.lost(loc.Base) {
			continue
		}
		lost = false
		break
	}
	l.memo[id] = lost
	return lost
}

// collectFindings turns the results of the pack checks and the snapshot
// walk into findings, each naming the snapshots that lose data through it.
func (c *checker) collectFindings(w *walker) {
	add := func(f Finding) { c.report.Findings = append(c.report.Findings, f) }
	losing := func(blobs []pack.ID) []pack.ID { return c.snapshotsLosing(w, blobs) }

	packs := make([]pack.ID, 0, len(c.packs))
	for p := range c.packs {
		packs = append(packs, p)
	}
	sortIDs(packs)
	for _, p := range packs {
		res := c.packs[p]
		if res.missing {
			blobs := uniqueIDs(append([]pack.ID(nil), c.packBlobs[p]...))
			add(&MissingPack{Pack: p, Blobs: blobs, Snapshots: losing(blobs)})
			continue
		}
		if len(res.errs) > 0 || len(res.damaged) > 0 {
			errs := append(res.errs, res.blobErrs...)
			add(&DamagedPack{Pack: p, Blobs: res.damaged, Snapshots: losing(res.damaged), DataRead: res.dataRead, Err: errList(errs)})
		}
		if len(res.mismatch) > 0 {
			blobs := uniqueIDs(res.mismatchBlobs)
			add(&PackHeaderMismatch{Pack: p, Detail: listed(res.mismatch, 3), Blobs: blobs, Snapshots: losing(blobs)})
		}
	}

	sortFindings(c.missingBases, func(f *MissingBase) pack.ID { return f.Blob })
	for _, f := range c.missingBases {
		f.Snapshots = losing([]pack.ID{f.Blob})
		add(f)
	}

	// A base that failed to load is news only if the pack checks did not
	// already find it (or its own base) lost.
	known := newLossFinder(c, false)
	var damagedBlobs []*DamagedBlob
	for id, err := range c.unloadable {
		if !known.lost(id) {
			damagedBlobs = append(damagedBlobs, &DamagedBlob{Blob: id, Snapshots: losing([]pack.ID{id}), Err: err})
		}
	}
	sortFindings(damagedBlobs, func(f *DamagedBlob) pack.ID { return f.Blob })
	for _, f := range damagedBlobs {
		add(f)
	}

	for _, f := range w.damagedSnapshots {
		add(f)
	}
	for _, f := range w.misnamedSnapshots {
		add(f)
	}
	for _, f := range w.damagedTrees {
		f.Snapshots = uniqueIDs(w.snapshotsOf[f.Tree])
		add(f)
	}
	for _, f := range w.damagedLogs {
		f.Snapshots = uniqueIDs(w.snapshotsOf[f.Log])
		add(f)
	}
	for _, f := range w.missingBlobs {
		f.Snapshots = uniqueIDs(w.snapshotsOf[f.Blob])
		add(f)
	}
	if len(w.singleCopy) > 0 {
		trees := uniqueIDs(w.singleCopy)
		add(&SingleCopyTrees{Trees: trees})
	}
	if len(c.report.UnreferencedPacks) > 0 {
		add(&UnreferencedPacks{Packs: c.report.UnreferencedPacks})
	}
	if c.unrecorded != nil {
		add(c.unrecorded)
	}
}

// snapshotsLosing returns the snapshots that lose data through blobs:
// those that reference a lost blob among them, or a lost delta blob built
// (directly or along a chain) on one of them.
func (c *checker) snapshotsLosing(w *walker, blobs []pack.ID) []pack.ID {
	var snaps []pack.ID
	seen := map[pack.ID]bool{}
	queue := append([]pack.ID(nil), blobs...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] || !c.loss.lost(id) {
			continue
		}
		seen[id] = true
		snaps = append(snaps, w.snapshotsOf[id]...)
		queue = append(queue, c.deltaChildren[id]...)
	}
	return uniqueIDs(snaps)
}

func sortFindings[F any](fs []F, key func(F) pack.ID) {
	slices.SortFunc(fs, func(a, b F) int { return compareIDs(key(a), key(b)) })
}

// errList is several errors reported as one line.
type errList []error

func (e errList) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return listed(msgs, 3)
}

func (e errList) Unwrap() []error { return e }

// listed joins the first max messages with "; " and counts the rest.
func listed(msgs []string, max int) string {
	if len(msgs) <= max {
		return strings.Join(msgs, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(msgs[:max], "; "), len(msgs)-max)
}
