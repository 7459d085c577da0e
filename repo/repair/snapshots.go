package repair

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// SnapshotsOptions tune Snapshots. The zero value repairs and keeps the
// originals.
type SnapshotsOptions struct {
	// Forget removes each original once its repaired snapshot is stored,
	// an original whose root tree is lost (nothing of it is left), and a
	// snapshot file that is damaged (it cannot be decoded, so nothing of
	// it can be repaired).
	Forget bool
	// DryRun only plans and reports: nothing is written or removed.
	DryRun bool
	// ReadData loads and verifies every data blob the snapshots reference,
	// so that a blob that is indexed in a stored pack but damaged counts
	// as lost too (check --read-data reports those as DamagedPack). It
	// reads as much as restoring every snapshot, and keeps a small record
	// per blob. Without it, a data blob counts as intact when the index
	// places it in a stored pack, and for a delta blob its base as well.
	// Tree blobs are always loaded.
	ReadData bool
	// Protected reports whether a snapshot must be kept: Forget leaves a
	// protected original in place. nil protects none.
	Protected func(id pack.ID) bool
	// Progress, when set, receives a line for each step.
	Progress func(msg string)
}

// SnapshotsReport tells what Snapshots found and did.
type SnapshotsReport struct {
	Snapshots int // snapshot files
	// Damaged are the snapshots that reference a blob that cannot be
	// loaded, oldest first.
	Damaged []*SnapshotRepair
	// Unreadable are snapshot files that cannot be read or decoded;
	// nothing of them can be repaired.
	Unreadable []SnapshotFileError
	// Renamed are the intact snapshot, protect and policy files that were stored under a
	// wrong name and now are under their own (in a dry run: that would
	// be).
	Renamed []repo.Renamed
	// IndexProblems say why the index is not complete (see
	// ErrIndexIncomplete); a dry run reports them without failing.
	IndexProblems []string
}

// SnapshotFileError is a snapshot file that cannot be read. Forgotten:
// Forget removed it. Protected: Forget kept it because an active
// protection names its ID.
type SnapshotFileError struct {
	Snapshot  pack.ID
	Err       error
	Forgotten bool
	Protected bool
}

// SnapshotRepair is what happened to one damaged snapshot.
type SnapshotRepair struct {
	Original *repo.Snapshot
	// Losses are the nodes that lost data, in tree order; empty when the
	// root tree is lost.
	Losses []Loss
	// RootLost: the snapshot's root tree cannot be loaded, so nothing of
	// it is left and no repaired snapshot is written.
	RootLost bool
	// RepairedBefore is a repaired snapshot that an earlier run wrote for
	// this original; no new one is written.
	RepairedBefore pack.ID
	// Repaired is the repaired snapshot written (nil in a dry run, and
	// when RootLost or RepairedBefore).
	Repaired *repo.Snapshot
	// Forgotten: Forget removed the original. Protected: Forget kept it
	// because it is protected.
	Forgotten bool
	Protected bool
}

// Snapshots writes a repaired snapshot for every snapshot that references
// a blob that cannot be loaded (docs/design.md, "repair"). A lost folder
// becomes an empty folder, a file or stream keeps its intact chunks (its
// size shrinks to theirs), a table keeps its intact chunks and their
// entries in its chunk index and its row count drops by the lost chunks'
// rows; each such node says in its Meta "lost" what it lost. The repaired
// snapshot keeps the original's time, host, source, paths, tier and tags,
// adds the tag "repaired", and records the original's ID in Meta
// "repaired_from" and a summary in Meta "lost".
//
// New trees are stored first, then the index, then the snapshots, then
// (with Forget) the originals are removed: a kill at any point leaves the
// original or its repaired snapshot, or both. A second run does not
// repair an original again that has a repaired snapshot.
//
// r's index is loaded again here, tolerating damaged index files; but
// before writing anything, Snapshots insists that the index is complete
// (ErrIndexIncomplete), since blobs that Index can bring back must not be
// dropped. The caller holds the exclusive lock.
func Snapshots(ctx context.Context, r *repo.Repository, opts SnapshotsOptions) (*SnapshotsReport, error) {
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	if opts.Protected == nil {
		opts.Protected = func(pack.ID) bool { return false }
	}
	// Snapshot files stored under a wrong name are intact: they get
	// their own name back before anything is judged unreadable.
	rename := r.RenameMisnamed
	if opts.DryRun {
		rename = r.FindMisnamed
	}
	var renamed []repo.Renamed
	for _, t := range []backend.FileType{backend.SnapshotFile, backend.ProtectFile, backend.PolicyFile, backend.KeyFile} {
		done, err := rename(ctx, t, repo.MisnamedDecoders[t])
		renamed = append(renamed, done...)
		if err != nil {
			return nil, fmt.Errorf("storing misnamed %s files under their own names: %w", t, err)
		}
	}
	rep, err := repairSnapshots(ctx, r, opts)
	if rep != nil {
		rep.Renamed = renamed
		// In a dry run the misnamed files are still there: they are
		// renamed, not unreadable.
		rep.Unreadable = slices.DeleteFunc(rep.Unreadable, func(u SnapshotFileError) bool {
			return slices.ContainsFunc(renamed, func(m repo.Renamed) bool { return m.Name == u.Snapshot })
		})
	}
	if err != nil || !opts.Forget || opts.DryRun {
		return rep, err
	}
	// Damaged snapshot files go last, after every repaired snapshot is
	// stored: they hold nothing that could be saved.
	for i := range rep.Unreadable {
		u := &rep.Unreadable[i]
		if !errors.Is(u.Err, repo.ErrDamaged) {
			continue // removed while listed, or a storage error
		}
		if opts.Protected(u.Snapshot) {
			u.Protected = true
			continue
		}
		if err := r.RemoveSnapshot(ctx, u.Snapshot); err != nil && !errors.Is(err, backend.ErrNotExist) {
			return rep, fmt.Errorf("removing the damaged snapshot file %s: %w", u.Snapshot.Short(), err)
		}
		u.Forgotten = true
	}
	return rep, nil
}

func repairSnapshots(ctx context.Context, r *repo.Repository, opts SnapshotsOptions) (*SnapshotsReport, error) {
	rep := &SnapshotsReport{}
	badFiles, err := r.LoadIndexTolerant(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading index: %w", err)
	}
	for _, f := range badFiles {
		rep.IndexProblems = append(rep.IndexProblems, fmt.Sprintf("index file %s cannot be read: %v", f.File.Short(), f.Err))
	}
	stored, err := listPacks(ctx, r)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, p := range r.Index().Packs() {
		if _, ok := stored[p]; !ok {
			gone = append(gone, p.Short())
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		rep.IndexProblems = append(rep.IndexProblems, fmt.Sprintf("packs the index names are not stored: %s", listed(gone)))
	}

	snaps, err := loadSnapshots(ctx, r, rep)
	if err != nil {
		return nil, err
	}
	repairedBefore := map[pack.ID]pack.ID{}
	for _, sn := range snaps {
		if from, err := pack.ParseID(sn.Meta[MetaRepairedFrom]); err == nil {
			repairedBefore[from] = sn.ID
		}
	}

	opts.Progress(fmt.Sprintf("walking the trees of %d snapshots", len(snaps)))
	p := newPlanner(r, newBlobChecker(r, stored, opts.ReadData), opts.Progress)
	roots := map[*SnapshotRepair]*treePlan{}
	for _, sn := range snaps {
		tp, lost, err := p.walk(ctx, sn.Tree)
		switch {
		case err != nil:
			return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		case lost != nil:
			rep.Damaged = append(rep.Damaged, &SnapshotRepair{Original: sn, RootLost: true, RepairedBefore: repairedBefore[sn.ID]})
		case tp.changed():
			sr := &SnapshotRepair{Original: sn, RepairedBefore: repairedBefore[sn.ID]}
			rep.Damaged = append(rep.Damaged, sr)
			roots[sr] = tp
		}
	}
	if len(rep.Damaged) == 0 {
		return rep, nil
	}
	if err := p.measure(ctx); err != nil {
		return rep, err
	}
	newRoots := map[*SnapshotRepair]pack.ID{}
	for _, sr := range rep.Damaged {
		if tp := roots[sr]; tp != nil {
			id, err := p.finish(ctx, tp)
			if err != nil {
				return rep, fmt.Errorf("snapshot %s: %w", sr.Original.ID.Short(), err)
			}
			newRoots[sr] = id
			sr.Losses = tp.losses("/", nil)
		}
	}
	problem, err := reindexable(ctx, r, stored, p.blobs)
	if err != nil {
		return rep, err
	}
	if problem != "" {
		rep.IndexProblems = append(rep.IndexProblems, problem)
	}
	if opts.DryRun {
		return rep, nil
	}
	if len(rep.IndexProblems) > 0 {
		return rep, fmt.Errorf("%w (run `strata repair index`; nothing was written): %s",
			ErrIndexIncomplete, strings.Join(rep.IndexProblems, "; "))
	}

	for _, b := range p.newData {
		if _, err := r.SaveBlob(ctx, pack.DataBlob, b, pack.ID{}); err != nil {
			return rep, fmt.Errorf("saving a chunk of a repaired chunk list: %w", err)
		}
	}
	if err := savePages(ctx, r, p.newPages); err != nil {
		return rep, err
	}
	if err := saveTrees(ctx, r, p.newTrees, opts.Progress); err != nil {
		return rep, err
	}
	for _, sr := range rep.Damaged {
		root, ok := newRoots[sr]
		if !ok || !sr.RepairedBefore.IsNull() {
			continue
		}
		sn := repairedSnapshot(sr.Original, root, sr.Losses)
		if err := r.SaveSnapshot(ctx, sn); err != nil {
			return rep, fmt.Errorf("saving the repaired snapshot of %s: %w", sr.Original.ID.Short(), err)
		}
		sr.Repaired = sn
	}
	if opts.Forget {
		for _, sr := range rep.Damaged {
			if err := forget(ctx, r, sr, opts.Protected); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// loadSnapshots loads every snapshot file, oldest first; those that cannot
// be read go to rep.Unreadable.
func loadSnapshots(ctx context.Context, r *repo.Repository, rep *SnapshotsReport) ([]*repo.Snapshot, error) {
	ids, err := r.List(ctx, backend.SnapshotFile)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ids, compareIDs)
	rep.Snapshots = len(ids)
	var snaps []*repo.Snapshot
	for _, id := range ids {
		sn, err := r.LoadSnapshot(ctx, id)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && isDamage(err):
			rep.Unreadable = append(rep.Unreadable, SnapshotFileError{Snapshot: id, Err: err})
		case err != nil:
			return nil, err
		default:
			snaps = append(snaps, sn)
		}
	}
	slices.SortStableFunc(snaps, func(a, b *repo.Snapshot) int { return a.Time.Compare(b.Time) })
	return snaps, nil
}

// reindexable reads the headers of the stored packs that the index does
// not name, and says which of them hold blobs in missing: those blobs are
// not lost, the index only has to be rebuilt.
func reindexable(ctx context.Context, r *repo.Repository, stored map[pack.ID]int64, blobs *blobChecker) (string, error) {
	missing := blobs.unindexed
	if len(missing) == 0 {
		return "", nil
	}
	indexed := map[pack.ID]bool{}
	for _, p := range r.Index().Packs() {
		indexed[p] = true
	}
	var packs []string
	found := 0
	for id, size := range stored {
		if indexed[id] {
			continue
		}
		header, _, err := readPackHeader(ctx, r, id, size)
		if err != nil {
			return "", err
		}
		n := 0
		for _, b := range header {
			// Index drops a delta blob whose base is lost; that one
			// stays lost when its pack is indexed again.
			if missing[b.ID] && (b.Compression != pack.Delta || blobs.indexed(b.Base, 1)) {
				n++
			}
		}
		if n > 0 {
			packs = append(packs, id.Short())
			found += n
		}
	}
	if found == 0 {
		return "", nil
	}
	slices.Sort(packs)
	return fmt.Sprintf("blobs the snapshots need (%d) are in packs no index file names: %s", found, listed(packs)), nil
}

// saveTrees stores the repaired trees and then the index that lists them.
// A tree that is already indexed is not stored again, so it must load.
func saveTrees(ctx context.Context, r *repo.Repository, trees []*repo.Tree, progress func(string)) error {
	progress(fmt.Sprintf("saving %d repaired trees", len(trees)))
	for _, t := range trees {
		b, err := repo.EncodeTree(t)
		if err != nil {
			return err
		}
		if id := r.Key().BlobID(b); r.HasBlob(id) {
			if _, err := r.LoadTree(ctx, id); err != nil {
				return fmt.Errorf("tree %s is indexed but cannot be loaded, so it cannot be used in a repaired snapshot "+
					"(run `strata check --read-data`): %w", id.Short(), err)
			}
			continue
		}
		if _, err := r.SaveTree(ctx, t); err != nil {
			return err
		}
	}
	return r.Flush(ctx)
}

// savePages saves the pages of repaired chunk lists (tree blobs, so
// SaveBlob keeps two copies).
func savePages(ctx context.Context, r *repo.Repository, pages [][]byte) error {
	for _, b := range pages {
		if _, err := r.SaveBlob(ctx, pack.TreeBlob, b, pack.ID{}); err != nil {
			return fmt.Errorf("saving a page of a repaired chunk list: %w", err)
		}
	}
	return nil
}

// repairedSnapshot is the snapshot that replaces orig, with root tree root.
func repairedSnapshot(orig *repo.Snapshot, root pack.ID, losses []Loss) *repo.Snapshot {
	sn := *orig
	sn.ID = pack.ID{}
	sn.Tree = root
	sn.Tags = slices.Clone(orig.Tags)
	if !orig.HasTag(TagRepaired) {
		sn.Tags = append(sn.Tags, TagRepaired)
	}
	sn.Paths = slices.Clone(orig.Paths)
	sn.Meta = maps.Clone(orig.Meta)
	if sn.Meta == nil {
		sn.Meta = map[string]string{}
	}
	sn.Meta[MetaRepairedFrom] = orig.ID.String()
	sn.Meta[MetaLost] = summary(losses)
	return &sn
}

// forget removes the original of sr when it was replaced by a repaired
// snapshot (now or by an earlier run) or nothing of it is left, unless it
// is protected.
func forget(ctx context.Context, r *repo.Repository, sr *SnapshotRepair, protected func(pack.ID) bool) error {
	if sr.Repaired == nil && sr.RepairedBefore.IsNull() && !sr.RootLost {
		return nil
	}
	if protected(sr.Original.ID) {
		sr.Protected = true
		return nil
	}
	h := backend.Handle{Type: backend.SnapshotFile, Name: sr.Original.ID.String()}
	if err := r.Backend().Remove(ctx, h); err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("removing the original snapshot %s: %w", sr.Original.ID.Short(), err)
	}
	sr.Forgotten = true
	return nil
}
