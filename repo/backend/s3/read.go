package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/minio/minio-go/v7"

	"strata/repo/backend"
)

// Load implements backend.Storage with one GET of exactly the range (an
// HTTP Range request). A range that starts at the end of the file is
// empty, which S3 answers with 416, so Load asks for the size then.
func (b *Backend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if err := h.Valid(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	ctx = withNote(ctx)
	what := "load " + b.what(h)
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("%s: %w: negative offset %d or length %d", what, backend.ErrInvalid, offset, length)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if length > math.MaxInt64-offset {
		return nil, fmt.Errorf("%s: bytes %d and %d more: %w", what, offset, length, backend.ErrRange)
	}
	var opts minio.GetObjectOptions
	switch {
	case offset == 0 && length == 0:
	case length == 0:
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	default:
		if err := opts.SetRange(offset, offset+length-1); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	body, info, _, err := b.core.GetObject(ctx, b.cfg.Bucket, b.key(h), opts)
	if err != nil {
		err = b.classify(ctx, err, opRead, what)
		if errors.Is(err, backend.ErrRange) && length == 0 {
			return b.emptyTail(ctx, h, offset, err)
		}
		return nil, err
	}
	defer body.Close()
	n := length
	switch {
	case n == 0:
		n = info.Size // the length of what is sent: the rest of the file
	case info.Size < n:
		// S3 cuts a range that ends past the end of the file short.
		return nil, fmt.Errorf("%s: bytes %d to %d, the file ends sooner: %w", what, offset, offset+length, backend.ErrRange)
	}
	if n < 0 || n > math.MaxInt32*4 {
		return nil, fmt.Errorf("%s: the server announced %d bytes", what, n)
	}
	buf := make([]byte, n)
	if got, err := io.ReadFull(body, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		// The bytes that came are a prefix of the range: a retry goes on
		// after them (see backend.Reader).
		return buf[:got], b.classify(ctx, fmt.Errorf("read %d of %d bytes at offset %d: %w", got, n, offset, err), opRead, what)
	}
	return buf, nil
}

// emptyTail answers a Load to the end that S3 refused as out of range: it
// is the empty range when offset is the file's size, else the refusal
// stands.
func (b *Backend) emptyTail(ctx context.Context, h backend.Handle, offset int64, refused error) ([]byte, error) {
	fi, err := b.Stat(ctx, h)
	if err != nil {
		return nil, err
	}
	if fi.Size == offset {
		return []byte{}, nil
	}
	return nil, refused
}

// Stat implements backend.Storage with a HEAD request.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := h.Valid(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat: %w", err)
	}
	ctx = withNote(ctx)
	what := "stat " + b.what(h)
	if err := ctx.Err(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("%s: %w", what, err)
	}
	info, err := b.client.StatObject(ctx, b.cfg.Bucket, b.key(h), minio.StatObjectOptions{})
	if err != nil {
		return backend.FileInfo{}, b.classify(ctx, err, opRead, what)
	}
	return backend.FileInfo{Handle: h, Size: info.Size}, nil
}

// List implements backend.Storage. It lists only the keys under the
// type's own prefix (data/, index/, ...), never the whole bucket, and
// skips keys that are no repository file of the type: stray objects, and
// packs in the wrong pack folder (as the local backend does).
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if !slices.Contains(backend.FileTypes, t) {
		return fmt.Errorf("list: %w: file type %q", backend.ErrInvalid, t)
	}
	ctx = withNote(ctx)
	what := "list " + b.Location() + "/" + string(t)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if t == backend.ConfigFile {
		fi, err := b.Stat(ctx, backend.Handle{Type: t})
		if errors.Is(err, backend.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(fi)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	opts := minio.ListObjectsOptions{Prefix: b.typePrefix(t), Recursive: true}
	for obj := range b.client.ListObjectsIter(ctx, b.cfg.Bucket, opts) {
		if obj.Err != nil {
			return b.classify(ctx, obj.Err, opList, what)
		}
		h, ok := b.handleOf(t, obj.Key)
		if !ok {
			continue
		}
		if err := fn(backend.FileInfo{Handle: h, Size: obj.Size}); err != nil {
			return err
		}
	}
	return nil
}
