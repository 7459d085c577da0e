package verify

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/audit"
	"strata/repo/backend"
)

// CheckOptions tune Check. The zero value checks structure only: index
// files, pack headers, snapshots and trees.
type CheckOptions struct {
	// ReadData reads every pack: its bytes must hash to its name, and
	// every blob must decrypt and decompress to a plaintext whose keyed
	// hash is its ID (for a delta blob, the plaintext rebuilt from its
	// base).
	ReadData bool
	// Subset reads the data of only some packs, as ReadData does for all;
	// it takes effect without ReadData.
	Subset Subset
	// Workers is how many packs are checked at once; 0 means GOMAXPROCS.
	// Reading data holds up to Workers whole packs in memory.
	Workers int
	// ChainMemory bounds the sealed bytes of delta-chain blobs (delta
	// blobs and their bases) that reading the packs keeps for verifying
	// the chains afterwards, each blob decoded once; blobs beyond it are
	// read again then. 0 means 64 MiB; negative keeps none.
	ChainMemory int64
	// Progress, when set, is updated as packs are checked.
	Progress *Progress
	// RetentionWarning: under object lock, files the snapshots need whose
	// retention runs out within it are a finding (RetentionsEnding). 0
	// means DefaultRetentionWarning of the repository's lock days;
	// negative checks none.
	RetentionWarning time.Duration
	// AuditAnchor is the newest audit record this client wrote or saw of
	// the repository (audit.LoadAnchor); nil: none. A trail that no
	// longer holds it is a finding (MissingSeenAuditRecord).
	AuditAnchor *audit.Anchor
	// TrailRead, when set, is called once the audit trail is read and
	// before the index, packs and snapshots are, where a command that
	// ends while a long check runs (check --read-data) ends. Only tests
	// set it.
	TrailRead func()
}

// Check checks the repository r and reports what it found. It reloads r's
// index (tolerating damaged index files, which become findings). The
// caller should hold a lock so that no prune runs meanwhile; a concurrent
// backup can at worst add unreferenced packs.
//
// Check returns an error only when it could not run: invalid options, a
// storage listing that failed, or ctx ending. Damage is reported as
// findings in the Report; see Report.OK.
func Check(ctx context.Context, r *repo.Repository, opts CheckOptions) (*Report, error) {
	if err := opts.Subset.validate(); err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChainMemory == 0 {
		opts.ChainMemory = defaultChainMemory
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	dec, err := pack.NewDecoder(r.Key())
	if err != nil {
		return nil, err
	}
	c := &checker{
		r: r, opts: opts, dec: dec, report: &Report{},
		badLocs:    map[blobInPack]struct{}{},
		packs:      map[pack.ID]*packResult{},
		unloadable: map[pack.ID]error{},
	}

	j, err := r.LoadJournal(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.checkMetaFiles(ctx, j); err != nil {
		return nil, err
	}
	if err := c.checkJournal(ctx, j); err != nil {
		return nil, err
	}
	if err := c.checkAudit(ctx); err != nil {
		return nil, err
	}
	if opts.TrailRead != nil {
		opts.TrailRead()
	}
	badFiles, err := r.LoadIndexTolerant(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading index: %w", err)
	}
	slices.SortFunc(badFiles, func(a, b *repo.IndexFileError) int { return compareIDs(a.File, b.File) })
	for _, f := range badFiles {
		c.report.Findings = append(c.report.Findings, &DamagedIndexFile{File: f.File, Err: f.Err})
	}
	c.idx = r.Index()
	c.scanIndex()

	stored, err := c.listPacks(ctx)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	if err := c.checkPacks(ctx, stored, rng); err != nil {
		return nil, err
	}
	if err := c.verifyChains(ctx); err != nil {
		return nil, err
	}
	c.loss = newLossFinder(c, true)

	w := newWalker(c)
	if err := w.walkSnapshots(ctx); err != nil {
		return nil, err
	}
	if err := c.findUnindexed(ctx, w, stored); err != nil {
		return nil, err
	}
	w.markProtected(ctx)
	c.collectFindings(w)
	if err := c.checkRecorded(ctx, w.stamps); err != nil {
		return nil, err
	}
	if err := c.checkRetentions(ctx); err != nil {
		return nil, err
	}
	return c.report, nil
}

// checker holds the state of one Check.
type checker struct {
	r      *repo.Repository
	opts   CheckOptions
	idx    *index.Index
	dec    *pack.Decoder
	report *Report
	audit  *audit.Verification // the audit trail, for checkRecorded

	// From the index, before any pack is read.
	packBlobs     map[pack.ID][]pack.ID // blobs the index places in each pack
	deltaChildren map[pack.ID][]pack.ID // base -> delta blobs built on it
	missingBases  []*MissingBase        // Snapshots are filled in at the end

	// Written by the pack workers.
	mu         sync.Mutex
	badLocs    map[blobInPack]struct{} // index entries that cannot be loaded
	packs      map[pack.ID]*packResult // packs with a problem
	unloadable map[pack.ID]error       // bases that failed to load while verifying deltas

	// Set aside by the pack reads for verifyChains.
	chainChecks []blobCheck
	chainKept   int64 // sealed bytes kept in chainChecks

	rawOnce sync.Once
	raw     map[blobInPack]uint32 // see rawLength

	loss *lossFinder // set once the packs are checked

	unrecorded *UnrecordedFiles // a notice, reported with the others at the end
}

// blobInPack names one index entry: a blob in a pack.
type blobInPack struct{ Blob, Pack pack.ID }

// scanIndex records, in one pass over the index, which blobs each pack
// holds, which delta blobs build on each base, and delta blobs whose base
// is not indexed.
func (c *checker) scanIndex() {
	c.packBlobs = map[pack.ID][]pack.ID{}
	c.deltaChildren = map[pack.ID][]pack.ID{}
	var last pack.ID
	blobs := 0
	c.idx.Each(func(id pack.ID, loc index.Location) bool {
		if blobs == 0 || id != last {
			blobs++
			last = id
		}
		c.packBlobs[loc.Pack] = append(c.packBlobs[loc.Pack], id)
		if loc.Compression == pack.Delta {
			children := c.deltaChildren[loc.Base]
			if !slices.Contains(children, id) {
				c.deltaChildren[loc.Base] = append(children, id)
			}
			if !c.idx.Has(loc.Base) {
				c.missingBases = append(c.missingBases, &MissingBase{Blob: id, Base: loc.Base})
			}
		}
		return true
	})
	c.report.Blobs = blobs
}

// listPacks lists the stored packs with their sizes, and reports those
// that the index does not name.
func (c *checker) listPacks(ctx context.Context) (map[pack.ID]int64, error) {
	stored := map[pack.ID]int64{}
	err := c.r.Backend().List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if id, err := pack.ParseID(fi.Handle.Name); err == nil {
			stored[id] = fi.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing packs: %w", err)
	}
	var unref []pack.ID
	for id := range stored {
		if _, ok := c.packBlobs[id]; !ok {
			unref = append(unref, id)
		}
	}
	sortIDs(unref)
	c.report.UnreferencedPacks = unref
	return stored, nil
}

// location returns the index entry of blob id in pack p.
func (c *checker) location(id, p pack.ID) (index.Location, bool) {
	for _, loc := range c.idx.LookupAll(id) {
		if loc.Pack == p {
			return loc, true
		}
	}
	return index.Location{}, false
}

func sortIDs(ids []pack.ID) {
	slices.SortFunc(ids, compareIDs)
}

func compareIDs(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) }

// uniqueIDs sorts ids and drops repeats.
func uniqueIDs(ids []pack.ID) []pack.ID {
	sortIDs(ids)
	return slices.Compact(ids)
}
