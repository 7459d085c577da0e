package repair

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// DefaultMaxFileBlobs is how many entries one index file written by Index
// holds at most, unless IndexOptions say otherwise: a few MiB per file.
const DefaultMaxFileBlobs = 50_000

// IndexOptions tune Index. The zero value reuses what it can.
type IndexOptions struct {
	// ReadAllPacks reads the header of every pack, also of packs that an
	// index file lists with the right size. Use it when check reports a
	// PackHeaderMismatch: then an index file that loads holds wrong
	// entries, and only the header is right.
	ReadAllPacks bool
	// Workers is how many pack headers are read at once; 0 means
	// GOMAXPROCS.
	Workers int
	// MaxFileBlobs bounds the entries of one new index file; 0 means
	// DefaultMaxFileBlobs, and a bound above index.MaxFileEntries is
	// taken as that.
	MaxFileBlobs int
	// Progress, when set, receives a line for each step.
	Progress func(msg string)
}

// IndexReport tells what Index did.
type IndexReport struct {
	PacksStored int // packs in storage
	PacksReused int // packs whose entries were taken from an old index file
	PacksRead   int // packs whose header was read and indexed
	Blobs       int // entries in the new index files

	// Unreadable are stored packs whose header could not be read. The
	// pack files are left in place; their blobs are lost but for the
	// entries kept from old index files (KeptBlobs).
	Unreadable []UnreadablePack
	// MissingPacks are packs that the index named but that are not in
	// storage, and MissingBlobs the entries the index had for them: these
	// are dropped. A snapshot that needs one of those blobs is fixed by
	// Snapshots.
	MissingPacks []pack.ID
	MissingBlobs int
	// BrokenDeltas are delta blobs whose chain of bases leads to a blob
	// that no pack left holds: they cannot be decoded, so their entries are
	// dropped too, and a new backup stores their data again instead of
	// deduplicating against them.
	BrokenDeltas []pack.ID
	// DamagedFiles are old index files that could not be read or decoded.
	// They are superseded and removed like the others.
	DamagedFiles []*repo.IndexFileError

	FilesWritten []pack.ID // new index files, the superseding one last
	FilesRemoved []pack.ID // old index files removed
	// FilesLocked are old index files left in storage because they are
	// under object lock: superseded by the new index, so no reader uses
	// them, and removed by a prune after their retention.
	FilesLocked []*backend.LockedError
}

// UnreadablePack is a stored pack whose header could not be read.
type UnreadablePack struct {
	Pack pack.ID
	Err  error
	// KeptBlobs and LostBlobs count the entries that old index files
	// that load have for the pack: those whose bytes lie within the
	// stored file are written again (loading such a blob verifies it, so
	// a wrong entry cannot do harm), the others are dropped. Without an
	// old entry, the pack's blobs are unknown and lost.
	KeptBlobs, LostBlobs int
}

// Index rebuilds the index of r from the pack headers (docs/design.md,
// "repair"). It lists the index files and the packs, takes the entries of
// every index file that loads for the packs that are stored with the size
// those entries describe (unless ReadAllPacks), reads the header of every
// other stored pack, and writes the entries in new index files. The last
// new file supersedes every index file that was there before, damaged ones
// included; only after it is stored are the old files removed. A kill at
// any point leaves an index that loads and lists at least every entry of
// the old one that points into a stored pack.
//
// The caller holds the exclusive lock; r's index need not be loaded.
// Index does not reload r's in-memory index: call LoadIndex to use the
// new one. An error means nothing was
// removed, or only some old files were (the new index is then complete).
func Index(ctx context.Context, r *repo.Repository, opts IndexOptions) (*IndexReport, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxFileBlobs <= 0 {
		opts.MaxFileBlobs = DefaultMaxFileBlobs
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	oldFiles, err := r.List(ctx, backend.IndexFile)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(oldFiles, compareIDs)
	stored, err := listPacks(ctx, r)
	if err != nil {
		return nil, err
	}
	rep := &IndexReport{PacksStored: len(stored)}
	ix := &indexer{r: r, opts: opts, rep: rep, stored: stored,
		done: make(map[pack.ID]bool, len(stored)), w: r.NewIndexRewriter(opts.MaxFileBlobs), idx: index.New()}
	defer func() { rep.FilesWritten, rep.Blobs = ix.w.Written(), ix.w.Entries() }()

	if err := ix.reuse(ctx, oldFiles); err != nil {
		return rep, err
	}
	if err := ix.readHeaders(ctx); err != nil {
		return rep, fmt.Errorf("%w (no old index file was removed; run repair index again)", err)
	}
	if err := ix.keepUnreadable(ctx, oldFiles); err != nil {
		return rep, err
	}
	replaced, err := ix.dropBrokenDeltas(ctx)
	if err != nil {
		return rep, err
	}

	supersede := append(slices.Clone(oldFiles), replaced...)
	opts.Progress(fmt.Sprintf("writing the index file that supersedes %d old ones", len(oldFiles)))
	if err := ix.w.Finish(ctx, supersede); err != nil {
		return rep, err
	}
	for _, id := range supersede {
		h := backend.Handle{Type: backend.IndexFile, Name: id.String()}
		err := r.Backend().Remove(ctx, h)
		var le *backend.LockedError
		switch {
		case errors.As(err, &le):
			rep.FilesLocked = append(rep.FilesLocked, le)
			continue
		case err != nil && !errors.Is(err, backend.ErrNotExist):
			return rep, fmt.Errorf("removing old index file %v (the new index is complete; remove it by hand or run repair index again): %w", h, err)
		}
		rep.FilesRemoved = append(rep.FilesRemoved, id)
	}
	// The new index stands for every old index file, those already gone
	// too: the journal records them as replaced.
	if _, err := r.CompactJournal(ctx, repo.CompactOptions{AcceptLoss: []backend.FileType{backend.IndexFile}}); err != nil {
		return rep, fmt.Errorf("the index is rebuilt, but compacting the journal failed (run repair index again): %w", err)
	}
	return rep, nil
}

// indexer holds the state of one Index.
type indexer struct {
	r      *repo.Repository
	opts   IndexOptions
	rep    *IndexReport
	stored map[pack.ID]int64 // packs in storage, with their sizes
	done   map[pack.ID]bool  // packs the new index lists
	w      *repo.IndexRewriter
	// idx holds every entry written, to find delta blobs whose base no
	// pack holds: as much memory as opening the repository takes.
	idx *index.Index
}

// add puts the entries of one pack into the new index.
func (ix *indexer) add(ctx context.Context, p index.PackBlobs) error {
	ix.done[p.PackID] = true
	ix.idx.AddPack(p.PackID, p.Blobs)
	return ix.w.Add(ctx, p)
}

// reuse takes the entries of the old index files that load, for stored
// packs whose size the entries match, and notes the packs they name that
// are gone. With ReadAllPacks it only notes those.
func (ix *indexer) reuse(ctx context.Context, oldFiles []pack.ID) error {
	ix.opts.Progress(fmt.Sprintf("reading %d index files", len(oldFiles)))
	superseded := map[pack.ID]bool{}
	// Packs named by an index file but not stored, with the files naming
	// them: those only a superseded file names were removed on purpose.
	type gone struct {
		files []pack.ID
		blobs int
	}
	missing := map[pack.ID]*gone{}
	for _, id := range oldFiles {
		f, err := loadIndexFile(ctx, ix.r, id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			ix.rep.DamagedFiles = append(ix.rep.DamagedFiles, err)
			continue
		}
		for _, s := range f.Supersedes {
			superseded[s] = true
		}
		for _, p := range f.Packs {
			size, ok := ix.stored[p.PackID]
			switch {
			case !ok:
				g := missing[p.PackID]
				if g == nil {
					g = &gone{}
					missing[p.PackID] = g
				}
				g.files = append(g.files, id)
				g.blobs = max(g.blobs, len(p.Blobs))
			case ix.opts.ReadAllPacks || ix.done[p.PackID] || !fitsPack(p.Blobs, size, ix.r.Key().Overhead()):
				// Read the header, or already taken from another file.
			default:
				ix.rep.PacksReused++
				if err := ix.add(ctx, p); err != nil {
					return err
				}
			}
		}
	}
	for p, g := range missing {
		if slices.ContainsFunc(g.files, func(f pack.ID) bool { return !superseded[f] }) {
			ix.rep.MissingPacks = append(ix.rep.MissingPacks, p)
			ix.rep.MissingBlobs += g.blobs
		}
	}
	slices.SortFunc(ix.rep.MissingPacks, compareIDs)
	return nil
}

// keepUnreadable writes again the old entries of packs whose header could
// not be read (a pack that ReadAllPacks read, or one whose size no longer
// matches its entries: a truncated pack may still hold intact blobs),
// as far as their bytes lie within the stored file.
func (ix *indexer) keepUnreadable(ctx context.Context, oldFiles []pack.ID) error {
	if len(ix.rep.Unreadable) == 0 {
		return nil
	}
	byPack := map[pack.ID]*UnreadablePack{}
	for i := range ix.rep.Unreadable {
		byPack[ix.rep.Unreadable[i].Pack] = &ix.rep.Unreadable[i]
	}
	for _, id := range oldFiles {
		f, err := loadIndexFile(ctx, ix.r, id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			continue // already in DamagedFiles
		}
		for _, p := range f.Packs {
			u := byPack[p.PackID]
			if u == nil || u.KeptBlobs+u.LostBlobs > 0 {
				continue // not unreadable, or taken from another file
			}
			size := ix.stored[p.PackID]
			kept := slices.DeleteFunc(slices.Clone(p.Blobs), func(b pack.Blob) bool { return int64(b.Offset)+int64(b.Length) > size })
			u.KeptBlobs, u.LostBlobs = len(kept), len(p.Blobs)-len(kept)
			if len(kept) == 0 {
				continue
			}
			if err := ix.add(ctx, index.PackBlobs{PackID: p.PackID, Blobs: kept}); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadIndexFile reads and decodes one index file.
func loadIndexFile(ctx context.Context, r *repo.Repository, id pack.ID) (*index.File, *repo.IndexFileError) {
	plain, err := r.LoadFile(ctx, backend.IndexFile, id)
	if err != nil {
		return nil, &repo.IndexFileError{File: id, Err: err}
	}
	f, err := index.Decode(plain)
	if err != nil {
		return nil, &repo.IndexFileError{File: id, Err: err}
	}
	return f, nil
}

// blobInPack names one index entry.
type blobInPack struct{ blob, pack pack.ID }

// dropBrokenDeltas removes the entries of delta blobs whose chain of bases
// is broken from the new index: from the file being gathered, and, for
// each file already written that holds one, by writing its other entries
// again. It returns the written files so replaced, which the last file
// must supersede too.
func (ix *indexer) dropBrokenDeltas(ctx context.Context) ([]pack.ID, error) {
	broken := brokenDeltas(ix.idx)
	if len(broken) == 0 {
		return nil, nil
	}
	seen := map[pack.ID]bool{}
	for e := range broken {
		if !seen[e.blob] {
			seen[e.blob] = true
			ix.rep.BrokenDeltas = append(ix.rep.BrokenDeltas, e.blob)
		}
	}
	slices.SortFunc(ix.rep.BrokenDeltas, compareIDs)
	ix.opts.Progress(fmt.Sprintf("dropping %d delta blobs whose base is lost", len(ix.rep.BrokenDeltas)))

	keep := func(p index.PackBlobs) index.PackBlobs {
		p.Blobs = slices.DeleteFunc(slices.Clone(p.Blobs), func(b pack.Blob) bool { return broken[blobInPack{b.ID, p.PackID}] })
		return p
	}
	pending := ix.w.TakePending()
	var readd []index.PackBlobs
	for _, p := range pending {
		readd = append(readd, keep(p))
	}
	var replaced []pack.ID
	for _, id := range slices.Clone(ix.w.Written()) {
		f, ferr := loadIndexFile(ctx, ix.r, id)
		if ferr != nil {
			return nil, fmt.Errorf("reading back new index file: %w", ferr)
		}
		kept := make([]index.PackBlobs, 0, len(f.Packs))
		changed := false
		for _, p := range f.Packs {
			k := keep(p)
			changed = changed || len(k.Blobs) != len(p.Blobs)
			kept = append(kept, k)
		}
		if changed {
			replaced = append(replaced, id)
			readd = append(readd, kept...)
		}
	}
	for _, p := range readd {
		if len(p.Blobs) == 0 {
			continue
		}
		if err := ix.w.Add(ctx, p); err != nil {
			return nil, err
		}
	}
	return replaced, nil
}

// brokenDeltas returns the delta entries of idx whose chain of bases does
// not end in a plain blob that idx holds.
func brokenDeltas(idx *index.Index) map[blobInPack]bool {
	loadable := map[pack.ID]bool{} // bases decided so far
	var decodes func(id pack.ID, depth int) bool
	decodes = func(id pack.ID, depth int) bool {
		if ok, seen := loadable[id]; seen {
			return ok
		}
		loadable[id] = false // a chain that leads back here is broken
		ok := false
		for _, loc := range idx.LookupAll(id) {
			if loc.Compression != pack.Delta || (depth < maxChainWalk && decodes(loc.Base, depth+1)) {
				ok = true
				break
			}
		}
		loadable[id] = ok
		return ok
	}
	broken := map[blobInPack]bool{}
	idx.Each(func(id pack.ID, loc index.Location) bool {
		if loc.Compression == pack.Delta && !decodes(loc.Base, 1) {
			broken[blobInPack{id, loc.Pack}] = true
		}
		return true
	})
	return broken
}
