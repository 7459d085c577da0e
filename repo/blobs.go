package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// SaveResult tells what SaveBlob did.
type SaveResult struct {
	ID pack.ID
	// Stored is the number of bytes added to a pack; 0 when the blob was
	// already in the repository.
	Stored int
	// Compression is how the blob was stored (when Stored > 0).
	Compression pack.Compression
}

// SaveBlob stores plain as a blob of type t unless the repository already
// has it. A non-null base asks for a delta blob against that blob; strata
// stores plain zstd instead when the base is missing, when the chain would
// grow past the configured depth, or when the delta is not smaller.
func (r *Repository) SaveBlob(ctx context.Context, t pack.BlobType, plain []byte, base pack.ID) (SaveResult, error) {
	id, claimed, err := r.claimBlob(plain)
	if err != nil || !claimed {
		return SaveResult{ID: id}, err
	}
	var basePlain []byte
	if !base.IsNull() && r.cfg.MaxDeltaDepth > 0 {
		if root := r.chainRoot(base); !root.IsNull() && r.deltaDepth(base) >= chainLimit(root, r.cfg.MaxDeltaDepth) {
			// The chain is as long as allowed: start a new one from its
			// plain root. The delta then spans more changes, but is still
			// far smaller than storing the whole blob again.
			base = root
		}
	}
	if !base.IsNull() && base != id && t == pack.DataBlob && r.deltaDepth(base) < r.cfg.MaxDeltaDepth {
		// A backup reads each chain once: its links go through pooled
		// buffers and stay out of the cache.
		buf := getPlainBuf()
		basePlain, err = r.loadBlob(ctx, base, 0, (*buf)[:0], false)
		defer putPlainBuf(buf, basePlain)
		if err != nil && ctx.Err() != nil {
			// Interrupted: not a damaged base, and nothing to store.
			r.packers.release(id)
			return SaveResult{ID: id}, ctx.Err()
		}
		if err != nil {
			r.Notify("storing blob %s without delta: base %s: %v", id.Short(), base.Short(), err)
			basePlain = nil
		}
	}
	return r.storeClaimed(ctx, t, id, plain, base, basePlain)
}

// claimBlob returns plain's ID and whether this saver must store it (see
// packers.claim), or why no blob may be stored: a config this strata
// cannot read, or a blob over pack.MaxBlobSize.
func (r *Repository) claimBlob(plain []byte) (pack.ID, bool, error) {
	if r.configDamage != nil && r.configDamage.CopyFrom == "" {
		return pack.ID{}, false, fmt.Errorf("config at %s: %w", r.be.Location(), ErrConfigUnknown)
	}
	if len(plain) > pack.MaxBlobSize {
		return pack.ID{}, false, fmt.Errorf("blob of %d bytes exceeds the limit of %d", len(plain), pack.MaxBlobSize)
	}
	id := r.key.BlobID(plain)
	return id, r.packers.claim(id), nil
}

// SaveDataBlobOn stores plain as a data blob unless the repository already
// has it, as a delta blob against base when that is smaller, encoding it
// with basePlain, the base's plaintext, which the caller holds. It is for
// writers whose bases may not be indexed yet, such as a copy from another
// repository that stores a chain's blobs into the same open pack
// (SaveBlob reads the base from the repository). The caller makes sure
// that base is indexed or was saved through this handle before (data
// blobs share one open pack, uploaded in order, so the base's pack is
// never indexed after the delta's), that basePlain is its plaintext, and
// that the chain stays within the config's MaxDeltaDepth.
func (r *Repository) SaveDataBlobOn(ctx context.Context, plain []byte, base pack.ID, basePlain []byte) (SaveResult, error) {
	id, claimed, err := r.claimBlob(plain)
	if err != nil || !claimed {
		return SaveResult{ID: id}, err
	}
	if base == id || r.key.BlobID(basePlain) != base {
		// A wrong base would make a delta blob no reader can decode.
		base, basePlain = pack.ID{}, nil
	}
	return r.storeClaimed(ctx, pack.DataBlob, id, plain, base, basePlain)
}

// storeClaimed encodes the blob id, which this saver claimed, against
// basePlain (the plaintext of base) when that is given, and adds it to the
// open packs.
func (r *Repository) storeClaimed(ctx context.Context, t pack.BlobType, id pack.ID, plain []byte, base pack.ID, basePlain []byte) (SaveResult, error) {
	res := SaveResult{ID: id}
	sealed, c, err := r.enc.Encode(nil, plain, basePlain)
	if err != nil {
		r.packers.release(id)
		return res, fmt.Errorf("encoding blob %s: %w", id.Short(), err)
	}
	b := pack.Blob{Type: t, Compression: c, ID: id, RawLength: uint32(len(plain))}
	if c == pack.Delta {
		b.Base = base
	}
	if err := r.packers.add(ctx, b, sealed); err != nil {
		r.packers.release(id)
		return res, err
	}
	res.Stored, res.Compression = len(sealed), c
	return res, nil
}

// DeltaDepth is the number of delta blobs on the chain from the indexed
// blob id down to a plain blob: 0 for a plain blob, and 64 (the largest
// MaxDeltaDepth a config allows) for a blob the index lacks or a broken
// chain.
func (r *Repository) DeltaDepth(id pack.ID) int { return r.deltaDepth(id) }

// deltaDepth is the number of delta blobs on the chain from id down to a
// plain blob (0 for a plain blob). Unknown blobs count as too deep.
func (r *Repository) deltaDepth(id pack.ID) int {
	for depth := 0; depth <= maxChainWalk; depth++ {
		loc, ok := r.Index().Lookup(id)
		if !ok {
			return maxChainWalk
		}
		if loc.Compression != pack.Delta {
			return depth
		}
		id = loc.Base
	}
	return maxChainWalk
}

// ChainFull reports whether a delta blob against id would restart its
// chain (SaveBlob then stores it against the chain's plain root): the
// chain down from id is as long as its limit allows. A change log uses it
// to write a new base instead of a log whose delta would span every change
// since the first log.
func (r *Repository) ChainFull(id pack.ID) bool {
	if r.cfg.MaxDeltaDepth <= 0 {
		return true
	}
	root := r.chainRoot(id)
	return root.IsNull() || r.deltaDepth(id) >= chainLimit(root, r.cfg.MaxDeltaDepth)
}

// chainLimit is the length at which the chain rooted at root restarts:
// between half of max and max, chosen by the root's ID. Chunks that change
// every hour would otherwise all restart in the same hour, and that hour's
// backup would store many long deltas at once; spread out, each hour
// carries a share.
func chainLimit(root pack.ID, max int) int {
	spread := max / 2
	if spread == 0 {
		return max
	}
	return max - int(root[0])%(spread+1)
}

// chainRoot returns the plain blob at the end of id's chain of bases, or
// the null ID when the chain is broken.
func (r *Repository) chainRoot(id pack.ID) pack.ID {
	for depth := 0; depth <= maxChainWalk; depth++ {
		loc, ok := r.Index().Lookup(id)
		if !ok {
			return pack.ID{}
		}
		if loc.Compression != pack.Delta {
			return id
		}
		id = loc.Base
	}
	return pack.ID{}
}

// maxChainWalk stops a walk along a damaged (cyclic) chain of bases.
const maxChainWalk = 64

// Flush uploads the open packs and writes an index file for every pack not
// yet in one. Call it before saving a snapshot that references new blobs:
// packs, then index, then snapshot. Blobs that other savers on this handle
// claimed before the call (SaveBlob reported them stored) are waited for
// and indexed too; when such a save failed, Flush fails.
func (r *Repository) Flush(ctx context.Context) error {
	claimed, err := r.packers.flush(ctx)
	if err != nil {
		return err
	}
	idx := r.Index()
	for _, id := range claimed {
		if !idx.Has(id) {
			return fmt.Errorf("blob %s: a concurrent save of it failed, so what needs it cannot be saved; run the command again", id.Short())
		}
	}
	return r.SaveIndex(ctx)
}

// WaitUploads returns once the packs this handle was uploading in the
// background are stored and indexed in memory, or failed (with the
// error of the first that failed, unless a save or Flush reported it
// already). An interrupted workflow waits for them before it writes an
// index file for what it uploaded.
func (r *Repository) WaitUploads(ctx context.Context) error { return r.packers.waitUploads(ctx) }

// BlobID returns the ID of a blob with this plaintext (docs/design.md,
// "IDs").
func (r *Repository) BlobID(plain []byte) pack.ID { return r.key.BlobID(plain) }

// HasBlob reports whether the index knows id.
func (r *Repository) HasBlob(id pack.ID) bool { return r.Index().Has(id) }

// LoadBlob returns the plaintext of blob id, resolving delta bases, and
// verifies it against its ID. When a copy is damaged, other copies are
// tried before failing.
func (r *Repository) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	return r.loadBlob(ctx, id, 0, nil, true)
}

// LoadBlobOnce is LoadBlob for a reader that loads each delta chain once
// (a backup): the links are decoded into pooled buffers and not kept in
// the blob cache.
func (r *Repository) LoadBlobOnce(ctx context.Context, id pack.ID) ([]byte, error) {
	return r.loadBlob(ctx, id, 0, nil, false)
}

// LoadBlobOnceInto is LoadBlobOnce appending the plaintext to dst, for a
// reader that reuses its buffers (diff, which reads each chunk once and
// keeps only a few of its rows).
func (r *Repository) LoadBlobOnceInto(ctx context.Context, id pack.ID, dst []byte) ([]byte, error) {
	return r.loadBlob(ctx, id, 0, dst, false)
}

// loadBlob appends the plaintext of id to dst. With cache set, the bases
// of delta blobs are kept in the blob cache, for loads of other links of
// the same chain (a restore); without, they are decoded into pooled
// buffers (a backup, which reads each chain once).
func (r *Repository) loadBlob(ctx context.Context, id pack.ID, depth int, dst []byte, cache bool) ([]byte, error) {
	if plain, ok := r.cache.get(id); ok {
		if cache && depth > 0 {
			// A base is only read: the cached copy serves as it is.
			return plain, nil
		}
		return append(dst, plain...), nil
	}
	if depth > maxChainWalk {
		return nil, fmt.Errorf("blob %s: %w: delta chain longer than %d (cycle?)", id, ErrDamaged, maxChainWalk)
	}
	if depth == 0 {
		// A delta blob: its chain's links read at once. When that
		// fails, the path below reads link by link, trying every copy,
		// and says what is damaged.
		plain, planned, err := r.loadChain(ctx, id, dst, cache)
		if planned && err == nil {
			return plain, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	locs := r.Index().LookupAll(id)
	if len(locs) == 0 {
		return nil, fmt.Errorf("blob %s: %w", id, ErrBlobNotFound)
	}
	var errs []error
	for _, loc := range locs {
		plain, err := r.loadFrom(ctx, id, loc, depth, dst, cache)
		if err == nil {
			if depth > 0 && cache {
				// loadFrom decoded it into new memory (dst is nil).
				r.cache.put(id, plain)
			}
			return plain, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// PackBytesRead returns the stored bytes of every blob this handle has
// loaded from packs so far (trees, pages, data blobs and the delta bases
// they needed; blobs served from the cache are not read again): what a
// reader such as dump --key-range or history reads of the repository.
func (r *Repository) PackBytesRead() int64 { return r.packBytesRead.Load() }

func (r *Repository) loadFrom(ctx context.Context, id pack.ID, loc index.Location, depth int, dst []byte, cache bool) ([]byte, error) {
	h := backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
	sealed, err := r.be.Load(ctx, h, int64(loc.Offset), int64(loc.Length))
	if err != nil {
		return nil, fmt.Errorf("blob %s in pack %s: %w", id, loc.Pack, err)
	}
	r.packBytesRead.Add(int64(len(sealed)))
	var base []byte
	if loc.Compression == pack.Delta {
		if cache {
			base, err = r.loadBlob(ctx, loc.Base, depth+1, nil, true)
		} else {
			buf := getPlainBuf()
			base, err = r.loadBlob(ctx, loc.Base, depth+1, (*buf)[:0], false)
			defer putPlainBuf(buf, base)
		}
		if err != nil {
			return nil, fmt.Errorf("blob %s in pack %s: base: %w", id, loc.Pack, err)
		}
	}
	return r.decodeLink(id, loc, sealed, base, dst)
}

// decodeLink appends to dst the plaintext of blob id, whose sealed bytes
// were read from loc, given its base's plaintext when it is a delta blob,
// and verifies it against its ID.
func (r *Repository) decodeLink(id pack.ID, loc index.Location, sealed, base, dst []byte) ([]byte, error) {
	// The in-memory index keeps no plaintext length: a raw blob's follows
	// from its sealed length, a compressed one's from its zstd frame.
	b := pack.Blob{Type: loc.Type, Compression: loc.Compression, ID: id, Base: loc.Base, Offset: loc.Offset, Length: loc.Length}
	if b.Compression == pack.Raw && int(b.Length) >= r.key.Overhead() {
		b.RawLength = b.Length - uint32(r.key.Overhead())
	}
	plain, err := r.dec.Decode(dst, sealed, b, base)
	if err != nil {
		return nil, fmt.Errorf("blob %s in pack %s: %w: %v", id, loc.Pack, ErrDamaged, err)
	}
	if r.key.BlobID(plain[len(dst):]) != id {
		return nil, fmt.Errorf("blob %s in pack %s: %w: content does not match its ID", id, loc.Pack, ErrDamaged)
	}
	return plain, nil
}

// plainPool recycles the buffers of delta bases, which are needed only
// while the next link of their chain is decoded. Fresh memory is costly:
// every 64 KiB chunk decoded into a new allocation is cleared first.
var plainPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}

func getPlainBuf() *[]byte { return plainPool.Get().(*[]byte) }

// putPlainBuf returns buf to the pool, keeping the larger of its own
// backing array and used's (what was appended to it).
func putPlainBuf(buf *[]byte, used []byte) {
	if cap(used) > cap(*buf) {
		*buf = used[:0]
	}
	plainPool.Put(buf)
}

// DeltaBase returns the base of blob id when the index lists it as a delta
// blob (its first copy), and false otherwise.
func (r *Repository) DeltaBase(id pack.ID) (pack.ID, bool) {
	loc, ok := r.Index().Lookup(id)
	if !ok || loc.Compression != pack.Delta {
		return pack.ID{}, false
	}
	return loc.Base, true
}
