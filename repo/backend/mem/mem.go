package mem

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"strata/repo/backend"
)

// Backend is an in-memory backend.Storage. Save and Load copy the bytes, so
// callers can never alias stored content. The zero value is not usable;
// call New.
type Backend struct {
	mu    sync.RWMutex
	files map[backend.Handle][]byte
}

var _ backend.Storage = (*Backend)(nil)

// New returns an empty in-memory backend.
func New() *Backend {
	return &Backend{files: make(map[backend.Handle][]byte)}
}

// Location implements backend.Storage.
func (b *Backend) Location() string { return "mem:" }

// Save implements backend.Storage. The content is read completely before
// the file becomes visible, so a failing rd or a cancelled ctx stores
// nothing.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	data, err := backend.ReadContent(rd)
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.files[h]; ok {
		return fmt.Errorf("save %v: %w", h, backend.ErrExists)
	}
	b.files[h] = data
	return nil
}

// Load implements backend.Storage.
func (b *Backend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if err := h.Valid(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %v: %w", h, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	data, ok := b.files[h]
	if !ok {
		return nil, fmt.Errorf("load %v: %w", h, backend.ErrNotExist)
	}
	n, err := backend.RangeLength(int64(len(data)), offset, length)
	if err != nil {
		return nil, fmt.Errorf("load %v: %w", h, err)
	}
	return bytes.Clone(data[offset : offset+n : offset+n]), nil
}

// Stat implements backend.Storage.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := h.Valid(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	data, ok := b.files[h]
	if !ok {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, backend.ErrNotExist)
	}
	return backend.FileInfo{Handle: h, Size: int64(len(data))}, nil
}

// List implements backend.Storage. It takes a snapshot of the file list
// first and calls fn without holding the lock, so fn may call any method.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if !slices.Contains(backend.FileTypes, t) {
		return fmt.Errorf("list: %w: file type %q", backend.ErrInvalid, t)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", t, err)
	}
	var infos []backend.FileInfo
	b.mu.RLock()
	for h, data := range b.files {
		if h.Type == t {
			infos = append(infos, backend.FileInfo{Handle: h, Size: int64(len(data))})
		}
	}
	b.mu.RUnlock()
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %s: %w", t, err)
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// Remove implements backend.Storage.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.files[h]; !ok {
		return fmt.Errorf("remove %v: %w", h, backend.ErrNotExist)
	}
	delete(b.files, h)
	return nil
}
