package repo

import (
	"context"
	"fmt"
	"sync/atomic"

	"strata/pack"
	"strata/repo/backend"
)

// PackHeaderOptions say where ReadPackHeader finds a pack's bytes.
type PackHeaderOptions struct {
	// Loaded is the whole pack when the caller holds it already (a check
	// that reads data, a salvage): the header is taken from it, storage is
	// not asked, and the size given is ignored.
	Loaded []byte
	// BytesRead, when not nil, is increased by the bytes each load from
	// storage returns (a progress counter).
	BytesRead *atomic.Int64
}

// ReadPackHeader reads, opens and validates the header of pack id
// (docs/design.md, "Packs"): the one way strata reads a pack header. It
// loads the end of the stored pack of size bytes with ranged reads (a
// negative size is asked of the storage first), or takes it from
// opts.Loaded. Damage (a header that does not open or validate, a pack too
// short or gone) satisfies IsDamage; any other error is the storage
// failing to answer. Errors name the pack.
func (r *Repository) ReadPackHeader(ctx context.Context, id pack.ID, size int64, opts PackHeaderOptions) ([]pack.Blob, error) {
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	var load func(offset, length int64) ([]byte, error)
	if data := opts.Loaded; data != nil {
		size = int64(len(data))
		load = func(offset, length int64) ([]byte, error) {
			if offset < 0 || length < 0 || offset+length > size {
				return nil, backend.ErrRange
			}
			return data[offset : offset+length], nil
		}
	} else {
		if size < 0 {
			fi, err := r.be.Stat(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("pack %v: %w", h, err)
			}
			size = fi.Size
		}
		load = func(offset, length int64) ([]byte, error) {
			b, err := r.be.Load(ctx, h, offset, length)
			if opts.BytesRead != nil {
				opts.BytesRead.Add(int64(len(b)))
			}
			return b, err
		}
	}
	blobs, err := pack.ReadHeader(load, size, r.key)
	if err != nil {
		return nil, fmt.Errorf("pack %v: %w", h, err)
	}
	return blobs, nil
}
