package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"strata/repo/backend"
)

// Save implements backend.Storage. Each retry rewinds rd first. An error
// of rd itself is not retried. When an attempt failed and a later one
// finds the file stored (ErrExists), the failed attempt may have stored
// it: for a file named by its content that is success; for the config,
// it is success only if the stored bytes are rd's.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	return b.save(ctx, h, rd, b.inner.Save)
}

// save is Save with the inner storage's save (Save, or SaveRetained with
// a retention).
func (b *Backend) save(ctx context.Context, h backend.Handle, rd backend.RewindReader, innerSave func(context.Context, backend.Handle, backend.RewindReader) error) error {
	src := &sourceReader{RewindReader: rd}
	tried := false
	return b.do(ctx, "save "+h.String(), func() error {
		if tried {
			if err := rd.Rewind(); err != nil {
				return backend.MarkPermanent(fmt.Errorf("save %v: rewinding its content to try again: %w", h, err))
			}
			src.err = nil
		}
		err := innerSave(ctx, h, src)
		switch {
		case err == nil:
			return nil
		case src.err != nil && errors.Is(err, src.err):
			return backend.MarkPermanent(err) // the source failed, not the storage
		case tried && errors.Is(err, backend.ErrExists):
			if h.Type.NamedByContent() {
				return nil
			}
			if same, serr := b.stored(ctx, h, rd); serr == nil && same {
				return nil
			}
		}
		tried = true
		return err
	})
}

// sourceReader remembers the error of the reader it passes on.
type sourceReader struct {
	backend.RewindReader
	err error
}

func (r *sourceReader) Read(p []byte) (int, error) {
	n, err := r.RewindReader.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// stored reports whether h holds exactly the content of rd (the config:
// a few hundred bytes).
func (b *Backend) stored(ctx context.Context, h backend.Handle, rd backend.RewindReader) (bool, error) {
	fi, err := b.inner.Stat(ctx, h)
	if err != nil || fi.Size != rd.Length() {
		return false, err
	}
	got, err := b.inner.Load(ctx, h, 0, fi.Size)
	if err != nil {
		return false, err
	}
	if err := rd.Rewind(); err != nil {
		return false, err
	}
	want, err := backend.ReadContent(rd)
	if err != nil {
		return false, err
	}
	return bytes.Equal(got, want), nil
}

// Load implements backend.Storage. A retry reads only what the failed
// attempts did not deliver (the prefix a failed Load may return).
func (b *Backend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("load %v: %w: negative offset %d or length %d", h, backend.ErrInvalid, offset, length)
	}
	var got []byte
	err := b.do(ctx, "load "+h.String(), func() error {
		n := length
		if length > 0 {
			n = length - int64(len(got))
		}
		data, err := b.inner.Load(ctx, h, offset+int64(len(got)), n)
		if err != nil && (length > 0 && int64(len(data)) >= n) {
			data = nil // not a prefix of what is missing: ignore it
		}
		if got == nil {
			got = data
		} else {
			got = append(got, data...)
		}
		return err
	})
	if err != nil {
		return got, err
	}
	if got == nil {
		got = []byte{}
	}
	return got, nil
}

// Stat implements backend.Storage.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	var fi backend.FileInfo
	err := b.do(ctx, "stat "+h.String(), func() error {
		var err error
		fi, err = b.inner.Stat(ctx, h)
		return err
	})
	return fi, err
}

// List implements backend.Storage. A retried listing starts again and
// skips the files already reported, so fn sees each file once; an error
// of fn is returned unchanged, never retried.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	seen := make(map[string]bool)
	var fnErr error
	err := b.do(ctx, "list "+string(t), func() error {
		return b.inner.List(ctx, t, func(fi backend.FileInfo) error {
			if seen[fi.Handle.Name] {
				return nil
			}
			seen[fi.Handle.Name] = true
			if err := fn(fi); err != nil {
				fnErr = err
				return backend.MarkPermanent(err)
			}
			return nil
		})
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Remove implements backend.Storage. When an attempt failed and a later
// one finds the file gone (ErrNotExist), the failed attempt removed it.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	tried := false
	return b.do(ctx, "remove "+h.String(), func() error {
		err := b.inner.Remove(ctx, h)
		if tried && errors.Is(err, backend.ErrNotExist) {
			return nil
		}
		tried = true
		return err
	})
}

// RemoveTemp implements backend.TempRemover when the inner storage does;
// otherwise it removes nothing.
func (b *Backend) RemoveTemp(ctx context.Context, cutoff time.Time) (int, int64, error) {
	tr, ok := b.inner.(backend.TempRemover)
	if !ok {
		return 0, 0, nil
	}
	return tr.RemoveTemp(ctx, cutoff)
}
