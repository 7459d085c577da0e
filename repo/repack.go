package repo

import (
	"context"
	"fmt"

	"strata/index"
	"strata/pack"
)

// Repacker copies blobs that are already sealed into new packs without
// decoding them: prune moves the used blobs out of mostly unused packs
// with it. Its packs are not added to the in-memory index; the entries of
// each pack go to an IndexRewriter as soon as the pack is stored, so they
// are not all held until the end (docs/design.md, "prune"). A blob added
// twice goes into two different packs: that is how the copies of a tree
// blob are kept apart. A Repacker is not safe for concurrent use.
type Repacker struct {
	r      *Repository
	open   map[packSlot]*openPack
	index  *IndexRewriter
	stored int
	bytes  int64 // size of the packs stored so far
}

// NewRepacker returns a Repacker that writes packs of the configured size
// and adds their entries to w.
func (r *Repository) NewRepacker(w *IndexRewriter) *Repacker {
	return &Repacker{r: r, open: map[packSlot]*openPack{}, index: w}
}

// Add appends one sealed blob, exactly as it was read from a pack, with
// its header entry b (Offset and Length are set anew). The sealed bytes
// are authenticated first, so a damaged copy is never carried into a new
// pack.
func (rp *Repacker) Add(ctx context.Context, b pack.Blob, sealed []byte) error {
	if _, err := rp.r.key.Open(nil, sealed); err != nil {
		return fmt.Errorf("blob %s: %w: %v", b.ID, ErrDamaged, err)
	}
	// The first open pack of the blob's type that does not hold it yet.
	slot := packSlot{t: b.Type}
	op := rp.open[slot]
	for op != nil && op.writer.Has(b.ID) {
		slot.copy++
		op = rp.open[slot]
	}
	if op == nil {
		var err error
		if op, err = rp.r.newPack(); err != nil {
			return err
		}
		rp.open[slot] = op
	}
	if err := op.writer.Add(b, sealed); err != nil {
		return fmt.Errorf("writing pack %s: %w", op.file.Name(), err)
	}
	if op.writer.Size() < int64(rp.r.cfg.PackSize) {
		return nil
	}
	delete(rp.open, slot)
	return rp.store(ctx, op)
}

func (rp *Repacker) store(ctx context.Context, op *openPack) error {
	blobs := op.writer.Blobs()
	id, size, err := rp.r.storePack(ctx, op)
	if err != nil {
		return err
	}
	rp.bytes += size
	rp.stored++
	if err := rp.index.Add(ctx, index.PackBlobs{PackID: id, Blobs: blobs}); err != nil {
		return fmt.Errorf("writing an index file for the new pack %s: %w", id.Short(), err)
	}
	return nil
}

// Finish stores the packs still open.
func (rp *Repacker) Finish(ctx context.Context) error {
	for t, op := range rp.open {
		delete(rp.open, t)
		if err := rp.store(ctx, op); err != nil {
			return err
		}
	}
	return nil
}

// Packs returns the number of packs stored so far.
func (rp *Repacker) Packs() int { return rp.stored }

// Bytes returns the size of the packs stored so far.
func (rp *Repacker) Bytes() int64 { return rp.bytes }

// Close discards the packs still open, after an error.
func (rp *Repacker) Close() {
	for t, op := range rp.open {
		delete(rp.open, t)
		_ = op.file.Close()
	}
}
