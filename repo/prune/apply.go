package prune

import (
	"context"
	"errors"
	"fmt"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// apply carries out the plan in the order docs/design.md, "prune",
// requires: new packs, whose entries go into new index files as the packs
// are stored, then the entries of the kept packs, the last index file
// superseding every old one, then removal of the old index files and
// packs. A kill before the last index file is stored leaves the old index
// in force; the new packs are either unindexed, and the next prune removes
// them, or listed beside the old ones, second copies of blobs that the
// next prune drops. A kill after it leaves only files nothing refers to.
func (p *plan) apply(ctx context.Context, oldIndex []pack.ID) error {
	rep := p.rep
	w := p.r.NewIndexRewriter(index.MaxFileEntries)
	rp := p.r.NewRepacker(w)
	defer rp.Close()
	// Also after an error, the report says what was written.
	defer func() {
		rep.IndexFilesWritten = len(w.Written())
		rep.PacksWritten = rp.Packs()
	}()
	var repacked, removed []pack.ID
	for id, pi := range p.packs {
		switch pi.action {
		case keep:
			rep.BytesAfter += pi.size
			rep.UnusedAfter += pi.unusedBytes
		case repack:
			repacked = append(repacked, id)
		case remove:
			if pi.size >= 0 {
				removed = append(removed, id)
			}
		}
	}
	sortIDs(repacked)
	sortIDs(removed)
	// Old index files under object lock stay, superseded: a new index
	// written only to replace them would be one more file that stays.
	removableIndex, err := p.removableIndex(ctx, oldIndex)
	if err != nil {
		return fmt.Errorf("prune: asking for the object lock of the index files: %w; nothing was deleted", err)
	}
	if len(repacked)+len(removed)+len(p.unindexed)+p.vanished == 0 && len(removableIndex) <= 1 {
		return nil // nothing to free, and the index is one file already
	}
	p.reportLockedIndex()
	if len(repacked) > 0 {
		p.progress("repacking %d packs", len(repacked))
	}
	for _, id := range repacked {
		if err := p.repackPack(ctx, rp, id); err != nil {
			return err
		}
	}
	if err := rp.Finish(ctx); err != nil {
		return fmt.Errorf("prune: %w; nothing was deleted", err)
	}
	rep.BytesAfter += rp.Bytes()

	p.progress("writing the new index")
	if err := p.writeIndex(ctx, w, oldIndex); err != nil {
		return fmt.Errorf("prune: writing the new index: %w; nothing was deleted", err)
	}

	p.progress("removing %d old index files and %d packs", len(removableIndex), len(removed)+len(repacked)+len(p.unindexed))
	// One journal file records the removal of every old index file.
	var gone []repo.JournalKey
	for _, id := range removableIndex {
		gone = append(gone, repo.JournalKey{Kind: backend.IndexFile, ID: id})
	}
	if err := p.r.RecordRemovals(ctx, gone); err != nil {
		return fmt.Errorf("prune: recording the removal of the %d old index files (%v first) in the journal: %w; nothing was deleted",
			len(removableIndex), backend.Handle{Type: backend.IndexFile, Name: removableIndex[0].String()}, err)
	}
	for _, id := range removableIndex {
		if done, err := p.remove(ctx, backend.Handle{Type: backend.IndexFile, Name: id.String()}, -1); err != nil {
			return err
		} else if done {
			rep.IndexFilesRemoved++
		}
	}
	for _, ids := range [][]pack.ID{removed, repacked, p.unindexed} {
		for _, id := range ids {
			size := p.unindexedSize[id]
			if pi := p.packs[id]; pi != nil {
				size = pi.size
			}
			if done, err := p.remove(ctx, packHandle(id), size); err != nil {
				return err
			} else if !done {
				rep.BytesAfter += size
			}
		}
	}
	return nil
}

func (p *plan) progress(format string, args ...any) {
	if p.opts.Progress != nil {
		p.opts.Progress(fmt.Sprintf(format, args...))
	}
}

// remove removes h, of size bytes, and reports whether it did: a file
// an object lock keeps (set after prune asked) is reported and left.
func (p *plan) remove(ctx context.Context, h backend.Handle, size int64) (bool, error) {
	err := p.r.Backend().Remove(ctx, h)
	if p.lockedRemove(h, size, err) {
		return false, nil
	}
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return false, fmt.Errorf("prune: removing %v: %w (the repository is consistent; the next prune removes it)", h, err)
	}
	return true, nil
}

// repackPack copies the used blobs of one pack into the repacker, one
// ranged read per blob. A data blob another pack that stays already holds
// is not copied: the extra copy goes with this pack. A tree blob is copied
// as often as kept packs and earlier repacks leave it short of
// repo.TreeCopies copies, so repacking keeps both copies and gives a tree
// stored once (by an older strata) its second copy; the repacker puts the
// copies in different packs.
func (p *plan) repackPack(ctx context.Context, rp *repo.Repacker, id pack.ID) error {
	blobs, err := p.r.ReadPackHeader(ctx, id, p.packs[id].size, repo.PackHeaderOptions{})
	if err != nil {
		return fmt.Errorf("prune: repacking: %w; nothing was deleted. Run `strata check --read-data`", err)
	}
	be, h := p.r.Backend(), packHandle(id)
	for _, b := range blobs {
		if !p.m.used.Has(b.ID) {
			continue
		}
		copies := 1
		if b.Type == pack.TreeBlob {
			copies = repo.TreeCopies - p.keptCopies(b.ID, id) - p.copied[b.ID]
		} else if loc, _ := p.r.Index().Lookup(b.ID); loc.Pack != id || p.keptElsewhere(b.ID, id) {
			continue
		}
		if copies <= 0 {
			continue
		}
		sealed, err := be.Load(ctx, h, int64(b.Offset), int64(b.Length))
		for range copies {
			if err == nil {
				err = rp.Add(ctx, b, sealed)
			}
		}
		if err != nil {
			return fmt.Errorf("prune: repacking %v: %w; nothing was deleted. Run `strata check --read-data`", h, err)
		}
		if b.Type == pack.TreeBlob {
			p.copied[b.ID] += copies
		}
		p.rep.RepackedBlobs += copies
		p.rep.RepackedBytes += int64(copies) * int64(b.Length)
	}
	return nil
}

// writeIndex adds the entries of the kept packs to w, which holds those
// of the new packs, and has it store the last file, which supersedes every
// old index file. Entries come from the index files themselves, which
// keep what the in-memory index drops (RawLength).
func (p *plan) writeIndex(ctx context.Context, w *repo.IndexRewriter, oldIndex []pack.ID) error {
	emitted := map[pack.ID]bool{}
	var cur index.PackBlobs
	flush := func() error {
		id := cur.PackID
		if id.IsNull() || emitted[id] || p.packs[id] == nil || p.packs[id].action != keep {
			return nil
		}
		emitted[id] = true
		return w.Add(ctx, index.PackBlobs{PackID: id, Blobs: uniqueBlobs(cur.Blobs)})
	}
	err := p.r.EachIndexedBlob(ctx, func(packID pack.ID, b pack.Blob) error {
		if packID != cur.PackID {
			if err := flush(); err != nil {
				return err
			}
			cur = index.PackBlobs{PackID: packID}
		}
		cur.Blobs = append(cur.Blobs, b)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return w.Finish(ctx, oldIndex)
}

// uniqueBlobs drops repeated entries, which appear when two index files
// that follow each other both list the pack.
func uniqueBlobs(blobs []pack.Blob) []pack.Blob {
	seen := make(map[pack.ID]bool, len(blobs))
	out := blobs[:0]
	for _, b := range blobs {
		if !seen[b.ID] {
			seen[b.ID] = true
			out = append(out, b)
		}
	}
	return out
}
