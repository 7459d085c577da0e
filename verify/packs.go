package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// packResult collects what went wrong with one pack.
type packResult struct {
	missing  bool
	dataRead bool    // the whole pack was read and its blobs verified
	errs     []error // reading, hashing or opening the header

	mismatch      []string  // index entries that differ from the header
	mismatchBlobs []pack.ID // their blob IDs

	damaged  []pack.ID // blobs failing verification (--read-data)
	blobErrs []error
}

// checkPacks checks every indexed pack with opts.Workers workers: its
// header against the index, and for the packs selected by ReadData or
// Subset its data. Only a cancelled ctx stops it.
func (c *checker) checkPacks(ctx context.Context, stored map[pack.ID]int64, rng *rand.Rand) error {
	packs := c.idx.Packs()
	c.report.Packs = len(packs)
	read := c.opts.Subset.selectPacks(packs, rng)
	if c.opts.ReadData && c.opts.Subset.IsZero() {
		for i := range read {
			read[i] = true
		}
	}
	c.opts.Progress.PacksTotal.Store(int64(len(packs)))

	g, ctx := errgroup.WithContext(ctx)
	work := make(chan int)
	g.Go(func() error {
		defer close(work)
		for i := range packs {
			select {
			case work <- i:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range c.opts.Workers {
		g.Go(func() error {
			for i := range work {
				p := packs[i]
				size, ok := stored[p]
				var res *packResult
				var err error
				switch {
				case !ok:
					res = &packResult{missing: true}
				case read[i]:
					res, err = c.readPack(ctx, p)
				default:
					res, err = c.checkHeader(ctx, p, size)
				}
				if err != nil {
					return err
				}
				c.record(p, res)
				c.opts.Progress.PacksDone.Add(1)
			}
			return nil
		})
	}
	return g.Wait()
}

// record keeps the result of one pack and marks its unusable entries.
func (c *checker) record(p pack.ID, res *packResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.missing {
		for _, id := range c.packBlobs[p] {
			c.badLocs[blobInPack{id, p}] = struct{}{}
		}
	}
	if res.missing || len(res.errs) > 0 || len(res.mismatch) > 0 || len(res.damaged) > 0 {
		c.packs[p] = res
	}
}

// damagedCopy records that the copy of blob id in pack p failed to load
// while the snapshots were walked: the pack is damaged there.
func (c *checker) damagedCopy(id, p pack.ID, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.badLocs[blobInPack{id, p}] = struct{}{}
	res := c.packs[p]
	if res == nil {
		res = &packResult{}
		c.packs[p] = res
	}
	if !slices.Contains(res.damaged, id) {
		res.damaged = append(res.damaged, id)
		res.blobErrs = append(res.blobErrs, err)
	}
}

func (c *checker) markBad(id, p pack.ID) {
	c.mu.Lock()
	c.badLocs[blobInPack{id, p}] = struct{}{}
	c.mu.Unlock()
}

// checkHeader reads the header of pack p with ranged loads and compares
// it with the index. An index entry that differs from the header counts as
// unusable: a load through it would read the wrong bytes.
func (c *checker) checkHeader(ctx context.Context, p pack.ID, size int64) (*packResult, error) {
	res := &packResult{}
	header, err := c.r.ReadPackHeader(ctx, p, size, repo.PackHeaderOptions{BytesRead: &c.opts.Progress.BytesRead})
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, backend.ErrNotExist):
		res.missing = true // removed since the listing
		return res, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("reading the header: %w", err) // no damage: the bytes may be intact
	case err != nil:
		res.errs = append(res.errs, err)
		return res, nil
	}
	c.compareHeader(p, header, res)
	for _, id := range res.mismatchBlobs {
		c.markBad(id, p)
	}
	return res, nil
}

// compareHeader checks every index entry of pack p against the header
// entry of the same blob. It returns the header entries by blob ID.
func (c *checker) compareHeader(p pack.ID, header []pack.Blob, res *packResult) map[pack.ID]pack.Blob {
	byID := make(map[pack.ID]pack.Blob, len(header))
	for _, b := range header {
		byID[b.ID] = b
	}
	for _, id := range c.packBlobs[p] {
		loc, _ := c.location(id, p)
		hb, ok := byID[id]
		var detail string
		switch {
		case !ok:
			detail = fmt.Sprintf("blob %s is in the index but not in the header", id.Short())
		case !sameEntry(loc, hb):
			detail = fmt.Sprintf("blob %s: index has %s, header has %s", id.Short(), describeLocation(loc), describeBlob(hb))
		default:
			continue
		}
		res.mismatch = append(res.mismatch, detail)
		res.mismatchBlobs = append(res.mismatchBlobs, id)
	}
	return byID
}

func sameEntry(loc index.Location, b pack.Blob) bool {
	return loc.Type == b.Type && loc.Compression == b.Compression && loc.Offset == b.Offset &&
		loc.Length == b.Length && loc.Base == b.Base
}

func describeLocation(loc index.Location) string {
	return describeBlob(pack.Blob{Type: loc.Type, Compression: loc.Compression, Offset: loc.Offset, Length: loc.Length, Base: loc.Base})
}

func describeBlob(b pack.Blob) string {
	s := fmt.Sprintf("%s %s at offset %d length %d", b.Compression, b.Type, b.Offset, b.Length)
	if !b.Base.IsNull() {
		s += " base " + b.Base.Short()
	}
	return s
}

// readPack loads all of pack p, checks that it hashes to its name, checks
// the header against the index, and verifies every blob: each index entry
// as a load through the index would read it, and each header entry that no
// index entry matches.
func (c *checker) readPack(ctx context.Context, p pack.ID) (*packResult, error) {
	res := &packResult{dataRead: true}
	// A pack larger than its indexed blobs and the largest header is
	// damaged (or planted to exhaust memory), and is not read whole.
	var end int64
	for _, id := range c.packBlobs[p] {
		if loc, ok := c.location(id, p); ok {
			end = max(end, int64(loc.Offset)+int64(loc.Length))
		}
	}
	data, err := backend.LoadAll(ctx, c.r.Backend(), backend.Handle{Type: backend.PackFile, Name: p.String()}, pack.MaxSize(end))
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, backend.ErrNotExist):
		res.missing = true
		return res, nil
	case errors.Is(err, fs.ErrPermission):
		// Not damage: the bytes may be intact, and repairs would drop them.
		return nil, fmt.Errorf("reading pack %v: %w", backend.Handle{Type: backend.PackFile, Name: p.String()}, err)
	case err != nil:
		// Unreadable bytes are lost bytes, as far as a restore can tell.
		res.errs = append(res.errs, err)
		res.damaged = uniqueIDs(append(res.damaged, c.packBlobs[p]...))
		for _, id := range c.packBlobs[p] {
			c.markBad(id, p)
		}
		return res, nil
	}
	c.opts.Progress.BytesRead.Add(int64(len(data)))
	c.mu.Lock()
	c.report.PacksRead++
	c.report.DataBytesRead += int64(len(data))
	c.mu.Unlock()

	if crypto.FileID(data) != p {
		res.errs = append(res.errs, errors.New("its bytes do not hash to its name (changed or truncated)"))
	}
	header, err := c.r.ReadPackHeader(ctx, p, 0, repo.PackHeaderOptions{Loaded: data})
	var byID map[pack.ID]pack.Blob
	if err != nil {
		res.errs = append(res.errs, err)
	} else {
		byID = c.compareHeader(p, header, res)
	}

	// Each index entry is verified as a load through the index reads it.
	// When it differs from a readable header, a failure is the index's
	// fault, reported by PackHeaderMismatch; the header entry is then
	// verified on its own below. Blobs of delta chains are set aside for
	// verifyChains.
	verified := make(map[pack.ID]bool, len(c.packBlobs[p]))
	var (
		buf   []byte
		chain []blobCheck
	)
	for _, id := range c.packBlobs[p] {
		loc, _ := c.location(id, p)
		hb, inHeader := byID[id]
		matches := inHeader && sameEntry(loc, hb)
		raw := hb.RawLength
		if !inHeader {
			raw = c.rawLength(ctx, id, p)
		}
		b := pack.Blob{Type: loc.Type, Compression: loc.Compression, ID: id, Base: loc.Base,
			Offset: loc.Offset, Length: loc.Length, RawLength: raw}
		chk := blobCheck{pack: p, blob: b, indexed: true, report: matches || header == nil}
		if buf, chain, err = c.checkInPack(ctx, data, chk, res, buf, chain); err != nil {
			return nil, err
		}
		verified[id] = matches
	}
	for _, hb := range header {
		if verified[hb.ID] {
			continue
		}
		if buf, chain, err = c.checkInPack(ctx, data, blobCheck{pack: p, blob: hb, report: true}, res, buf, chain); err != nil {
			return nil, err
		}
	}
	if len(chain) > 0 {
		c.setAside(chain, data)
	}
	res.damaged = uniqueIDs(res.damaged)
	return res, nil
}

// checkInPack verifies chk from the bytes data of its pack, recording a
// failure in res, or appends it to chain when it belongs to a delta chain
// (for setAside). buf is scratch space, returned for reuse. It returns an
// error only when ctx ends.
func (c *checker) checkInPack(ctx context.Context, data []byte, chk blobCheck, res *packResult, buf []byte, chain []blobCheck) ([]byte, []blobCheck, error) {
	b := chk.blob
	end := int64(b.Offset) + int64(b.Length)
	var err error
	if end > int64(len(data)) {
		err = fmt.Errorf("%s: bytes %d..%d run past the end of the %d-byte pack", b, b.Offset, end, len(data))
	} else if c.inChain(b) {
		chk.sealed = data[b.Offset:end:end]
		return buf, append(chain, chk), nil
	} else {
		// The decoder caps the plaintext it returns at its length, so
		// buf keeps its own capacity and grows to the largest blob.
		if need := int(b.RawLength); cap(buf) < need {
			buf = make([]byte, 0, max(need, 2*cap(buf)))
		}
		if err = c.verifyBlob(ctx, data[b.Offset:end], b, buf); err != nil && ctx.Err() != nil {
			return buf, chain, ctx.Err()
		}
	}
	if err != nil {
		if chk.indexed {
			c.markBad(b.ID, chk.pack)
		}
		if chk.report {
			res.damaged = append(res.damaged, b.ID)
			res.blobErrs = append(res.blobErrs, err)
		}
	}
	return buf, chain, nil
}

// verifyBlob decodes blob b from its sealed bytes, into buf, and checks
// its plaintext against its ID. A delta blob's base is loaded through the
// repository; when it does not load, the base is recorded in
// c.unloadable and the blob is not counted as damaged.
func (c *checker) verifyBlob(ctx context.Context, sealed []byte, b pack.Blob, buf []byte) error {
	var base []byte
	if b.Compression == pack.Delta {
		var err error
		if base, err = c.r.LoadBlob(ctx, b.Base); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.mu.Lock()
			if _, ok := c.unloadable[b.Base]; !ok {
				c.unloadable[b.Base] = err
			}
			c.mu.Unlock()
			return nil
		}
	}
	_, err := c.decodeAndVerify(sealed, b, base, buf)
	return err
}

// decodeAndVerify decodes blob b from its sealed bytes, with the
// plaintext of its base for a delta blob, into buf and checks the
// plaintext against its ID.
func (c *checker) decodeAndVerify(sealed []byte, b pack.Blob, base, buf []byte) ([]byte, error) {
	plain, err := c.dec.Decode(buf[:0], sealed, b, base)
	if err != nil {
		return nil, err // names the blob
	}
	if c.r.Key().BlobID(plain) != b.ID {
		return nil, fmt.Errorf("%s: plaintext does not match its ID", b)
	}
	return plain, nil
}

// rawLength returns the plaintext length that the index files record for
// blob id in pack p; the in-memory index does not keep it. Only a pack
// whose header cannot be read needs it, so the index files are read again
// only then, once.
func (c *checker) rawLength(ctx context.Context, id, p pack.ID) uint32 {
	c.rawOnce.Do(func() {
		c.raw = map[blobInPack]uint32{}
		// A file that fails now failed when the index was loaded and is
		// already a finding; entries it would have given stay unknown.
		_ = c.r.EachIndexedBlob(ctx, func(packID pack.ID, b pack.Blob) error {
			c.raw[blobInPack{b.ID, packID}] = b.RawLength
			return nil
		})
	})
	return c.raw[blobInPack{id, p}]
}
