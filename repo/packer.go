package repo

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/zeebo/blake3"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// indexFlushPacks is how many uploaded packs may wait for an index file
// before one is written mid-backup, so a crash loses little work.
const indexFlushPacks = 64

// openPack is a pack being written to a temporary file.
type openPack struct {
	file   *os.File
	hash   *blake3.Hasher
	writer *pack.Writer
	holds  map[pack.ID]bool // the blobs added so far
}

// packSlot names one open pack of a packers or Repacker: data and tree
// blobs never share a pack, and the copies of a tree blob go to open packs
// of different slots, so never into one pack.
type packSlot struct {
	t    pack.BlobType
	copy int // 0 .. Copies(t)-1
}

// packers keeps one open pack per slot. Blobs are in flight from the
// moment a saver claims them until their first pack is uploaded and
// indexed.
type packers struct {
	r *Repository

	mu       sync.Mutex
	open     map[packSlot]*openPack
	inFlight map[pack.ID]struct{}
	// changed is closed, and replaced, whenever a claimed blob joins an
	// open pack or leaves inFlight, or an upload ends; flush waits on it.
	changed chan struct{}

	// Full packs upload in the background, at most cap(slots) at once
	// (Options.Uploads), and are indexed in the order they were started:
	// each waits for the ticket of the upload started before it. A copy
	// stores a delta blob in the pack after its base's (SaveDataBlobOn),
	// and an index must never name the delta without the base.
	slots     chan struct{}
	last      *uploadTicket
	uploading int   // started, not yet indexed or failed
	uploadErr error // of a failed upload: every add fails with it until a flush returns it
}

// uploadTicket is one background upload: done is closed once its pack is
// indexed or the upload failed (failed set before).
type uploadTicket struct {
	done   chan struct{}
	failed bool
}

func newPackers(r *Repository) *packers {
	return &packers{
		r: r, open: map[packSlot]*openPack{}, inFlight: map[pack.ID]struct{}{}, changed: make(chan struct{}),
		slots: make(chan struct{}, max(r.opts.Uploads, 1)),
	}
}

// changedLocked wakes the flushes waiting for a change; p.mu is held.
func (p *packers) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// claim reports whether id must be stored: false when it is indexed or
// another saver is storing it.
func (p *packers) claim(id pack.ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.inFlight[id]; ok || p.r.Index().Has(id) {
		return false
	}
	p.inFlight[id] = struct{}{}
	return true
}

func (p *packers) release(id pack.ID) {
	p.mu.Lock()
	delete(p.inFlight, id)
	p.changedLocked()
	p.mu.Unlock()
}

// add appends one sealed blob to the open pack of its type, and a tree
// blob's copies each to an open pack of its own (docs/design.md, "Tree
// copies"); it uploads the packs that reached the target size.
func (p *packers) add(ctx context.Context, b pack.Blob, sealed []byte) error {
	p.mu.Lock()
	var full []*openPack
	for c := range Copies(b.Type) {
		slot := packSlot{b.Type, c}
		op := p.open[slot]
		if op == nil {
			var err error
			if op, err = p.r.newPack(); err != nil {
				p.mu.Unlock()
				return err
			}
			p.open[slot] = op
		}
		if err := op.writer.Add(b, sealed); err != nil {
			p.mu.Unlock()
			return fmt.Errorf("writing pack %s: %w", op.file.Name(), err)
		}
		op.holds[b.ID] = true
		if op.writer.Size() >= int64(p.r.cfg.PackSize) {
			full = append(full, op)
			delete(p.open, slot)
		}
	}
	p.changedLocked()
	err := p.uploadErr
	p.mu.Unlock()
	for _, op := range full {
		if uerr := p.startUpload(ctx, op); uerr != nil && err == nil {
			err = uerr
		}
	}
	return err
}

func (r *Repository) newPack() (*openPack, error) {
	f, err := os.CreateTemp(r.opts.TempDir, "strata-pack-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary pack file: %w", err)
	}
	// The open file stays usable without its name; removing the name now
	// means a killed backup leaves no temporary pack behind.
	_ = os.Remove(f.Name())
	h := blake3.New()
	return &openPack{file: f, hash: h, writer: pack.NewWriter(io.MultiWriter(f, h), r.key), holds: map[pack.ID]bool{}}, nil
}

// flush uploads every open pack, and returns once every blob claimed
// before the call is uploaded (or its save failed) and no upload is left
// running, with those blobs. It waits for the blobs that other savers are
// still encoding, or whose packs are uploading, and uploads the open packs
// that come to hold them. A failed upload fails it.
func (p *packers) flush(ctx context.Context) ([]pack.ID, error) {
	p.mu.Lock()
	claimed := make([]pack.ID, 0, len(p.inFlight))
	waiting := make(map[pack.ID]bool, len(p.inFlight))
	for id := range p.inFlight {
		claimed = append(claimed, id)
		waiting[id] = true
	}
	p.mu.Unlock()
	for all := true; ; all = false {
		p.mu.Lock()
		for id := range waiting {
			if _, ok := p.inFlight[id]; !ok {
				delete(waiting, id)
			}
		}
		var full []*openPack
		for slot, op := range p.open {
			if all || holdsAny(op.holds, waiting) {
				full = append(full, op)
				delete(p.open, slot)
			}
		}
		changed, uploading, uploadErr := p.changed, p.uploading, p.uploadErr
		p.mu.Unlock()
		if uploadErr != nil {
			p.dropAll(full, nil)
			return claimed, p.endFailure(ctx)
		}
		// Every pack taken is uploaded, or dropped by a failed upload:
		// either way its blobs leave inFlight.
		for i, op := range full {
			if err := p.startUpload(ctx, op); err != nil {
				p.dropAll(full[i+1:], nil)
				_ = p.endFailure(ctx)
				return claimed, err
			}
		}
		if len(full) > 0 {
			continue
		}
		if len(waiting) == 0 && uploading == 0 {
			return claimed, nil
		}
		select {
		case <-ctx.Done():
			return claimed, ctx.Err()
		case <-changed:
		}
	}
}

func holdsAny(holds, ids map[pack.ID]bool) bool {
	if len(holds) > len(ids) {
		holds, ids = ids, holds
	}
	for id := range holds {
		if ids[id] {
			return true
		}
	}
	return false
}

// startUpload uploads a full pack in the background once one of the
// upload slots is free (waiting for it meanwhile). The pack's blobs stay
// in flight until it is indexed or its upload failed; the error of a
// failed upload is returned by the next add or flush.
func (p *packers) startUpload(ctx context.Context, op *openPack) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		p.dropAll([]*openPack{op}, nil)
		return ctx.Err()
	}
	t := &uploadTicket{done: make(chan struct{})}
	p.mu.Lock()
	prev := p.last
	if prev != nil {
		select {
		case <-prev.done:
			// Every upload before is over: a failure among them was
			// reported, and this pack starts a new sequence.
			prev = nil
		default:
		}
	}
	p.last = t
	p.uploading++
	p.mu.Unlock()
	go func() {
		defer func() { <-p.slots }()
		err := p.upload(ctx, op, prev)
		p.mu.Lock()
		if err != nil {
			t.failed = true
			if p.uploadErr == nil {
				p.uploadErr = err
			}
		}
		p.uploading--
		p.changedLocked()
		p.mu.Unlock()
		close(t.done)
	}()
	return nil
}

// dropAll discards packs that will not be uploaded: their blobs leave
// inFlight, so that a flush waiting for them ends (and finds them
// unindexed), and err, when not nil, is kept for the next add or flush.
func (p *packers) dropAll(ops []*openPack, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, op := range ops {
		_ = op.file.Close()
		for _, b := range op.writer.Blobs() {
			delete(p.inFlight, b.ID)
		}
	}
	if err != nil && p.uploadErr == nil {
		p.uploadErr = err
	}
	p.changedLocked()
}

// upload finishes a pack, stores it under the hash of its bytes, and only
// then, once the upload started before it (prev) is indexed, makes its
// blobs visible in the index. After a failed earlier upload the pack is
// stored but not indexed: a pack that no index names is harmless (check
// notes it, prune removes it), an index naming a delta blob whose base
// was never indexed is not.
func (p *packers) upload(ctx context.Context, op *openPack, prev *uploadTicket) error {
	blobs := op.writer.Blobs()
	defer func() {
		p.mu.Lock()
		for _, b := range blobs {
			delete(p.inFlight, b.ID)
		}
		p.changedLocked()
		p.mu.Unlock()
	}()
	id, _, err := p.r.storePack(ctx, op)
	if prev != nil {
		<-prev.done
	}
	if err != nil {
		return err
	}
	if prev != nil && prev.failed {
		return fmt.Errorf("pack %s uploaded but not indexed: an upload before it failed", id.Short())
	}
	// Under r.mu, so that LoadIndex, which replaces the index under it
	// too, finds the pack in either the old index or unsavedPacks.
	p.r.mu.Lock()
	p.r.Index().AddPack(id, blobs)
	p.r.unsavedPacks = append(p.r.unsavedPacks, index.PackBlobs{PackID: id, Blobs: blobs})
	flushIndex := len(p.r.unsavedPacks) >= indexFlushPacks
	p.r.mu.Unlock()
	if flushIndex {
		return p.r.SaveIndex(ctx)
	}
	return nil
}

// waitUploads returns once no upload is running, with the error of the
// first that failed.
func (p *packers) waitUploads(ctx context.Context) error {
	for {
		p.mu.Lock()
		uploading, changed, err := p.uploading, p.changed, p.uploadErr
		p.mu.Unlock()
		if uploading == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// endFailure waits for the uploads still running, then returns the error
// of the first that failed and forgets it: the flush that returns it ends
// the failure, and the handle may save again (under a new lock, say).
func (p *packers) endFailure(ctx context.Context) error {
	err := p.waitUploads(ctx)
	p.mu.Lock()
	if p.uploading == 0 {
		p.uploadErr = nil
	}
	p.mu.Unlock()
	return err
}

// storePack finishes op and stores it under the hash of its bytes. The
// temporary file is closed either way.
func (r *Repository) storePack(ctx context.Context, op *openPack) (pack.ID, int64, error) {
	defer func() {
		_ = op.file.Close()
		_ = os.Remove(op.file.Name())
	}()
	var id pack.ID
	size, err := op.writer.Finish()
	if err != nil {
		return id, 0, fmt.Errorf("finishing pack %s: %w", op.file.Name(), err)
	}
	op.hash.Sum(id[:0])
	content, err := backend.NewFileReader(op.file)
	if err != nil {
		return id, 0, fmt.Errorf("pack %s: %w", op.file.Name(), err)
	}
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	if err := r.be.Save(ctx, h, content); err != nil {
		return id, 0, fmt.Errorf("uploading pack %v: %w", h, err)
	}
	return id, size, nil
}
