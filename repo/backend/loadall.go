package backend

import (
	"context"
	"fmt"
)

// LoadAll reads the whole of h, which may hold at most max bytes: a file
// larger than that is refused with ErrTooLarge before any of it is read,
// so a damaged or planted file of many gigabytes cannot exhaust memory.
// It reads the size the storage reported, never more, even if the file
// grows meanwhile.
func LoadAll(ctx context.Context, r Reader, h Handle, max int64) ([]byte, error) {
	fi, err := r.Stat(ctx, h)
	if err != nil {
		return nil, err
	}
	if fi.Size > max {
		return nil, fmt.Errorf("%v: %w: %d bytes, more than the %d bytes any file in %s/ may hold", h, ErrTooLarge, fi.Size, max, h.Type)
	}
	if fi.Size == 0 {
		// Length 0 would read to the end, however far that has moved.
		return []byte{}, nil
	}
	return r.Load(ctx, h, 0, fi.Size)
}
