package repo

import (
	"context"
	"errors"
	"fmt"

	"strata/index"
	"strata/repo/audit"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// The largest file of each type that is read whole (docs/design.md,
// "File sizes"). Every such file is small by its format, but read whole
// into memory: a larger one is damage, or planted to exhaust the memory of
// whoever opens the repository, and is reported damaged unread. SaveFile
// refuses to store a file over its bound, so strata never writes one it
// would call damaged. Packs are not read whole by these paths: their
// blobs and headers are read by ranges the pack's own limits bound.
const (
	// MaxConfigFileSize: the sealed config, a few hundred bytes.
	MaxConfigFileSize = 64 << 10
	// MaxKeyFileSize: a key file, about a kilobyte with its config copy.
	MaxKeyFileSize = 64 << 10
	// MaxLockFileSize: a lock, a few hundred bytes.
	MaxLockFileSize = 64 << 10
	// MaxPolicyFileSize: a retention policy, its tags and tiers.
	MaxPolicyFileSize = 64 << 10
	// MaxProtectFileSize: a protection, its reason included.
	MaxProtectFileSize = 64 << 10
	// MaxSnapshotFileSize: a snapshot's metadata, with a path per table or
	// command-line path (100,000 tables take about 3 MiB).
	MaxSnapshotFileSize = 16 << 20
	// MaxIndexFileSize: an index file, bounded by its format.
	MaxIndexFileSize = index.MaxFileSize + crypto.Overhead
	// MaxJournalFileSize: a journal file; a base file records every
	// snapshot, key, policy, protect and index file in about 150 bytes
	// each, so a million of them fit.
	MaxJournalFileSize = 256 << 20
)

// MaxFileSize returns the largest file of type t that is read whole, or 0
// for packs, which are never read whole by LoadFile.
func MaxFileSize(t backend.FileType) int64 {
	switch t {
	case backend.ConfigFile:
		return MaxConfigFileSize
	case backend.KeyFile:
		return MaxKeyFileSize
	case backend.LockFile:
		return MaxLockFileSize
	case backend.PolicyFile:
		return MaxPolicyFileSize
	case backend.ProtectFile:
		return MaxProtectFileSize
	case backend.SnapshotFile:
		return MaxSnapshotFileSize
	case backend.IndexFile:
		return MaxIndexFileSize
	case backend.JournalFile:
		return MaxJournalFileSize
	case backend.AuditFile:
		return audit.MaxFileSize
	}
	return 0
}

// loadWhole reads the whole file h, refusing one larger than its type
// allows as damaged (ErrDamaged and backend.ErrTooLarge) without reading
// it.
func loadWhole(ctx context.Context, be backend.Reader, h backend.Handle) ([]byte, error) {
	data, err := backend.LoadAll(ctx, be, h, MaxFileSize(h.Type))
	if errors.Is(err, backend.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return data, err
}

// LoadWhole reads the whole file h as it is stored (sealed, or a key
// file's JSON), refusing one larger than MaxFileSize of its type as
// damaged without reading it.
func (r *Repository) LoadWhole(ctx context.Context, h backend.Handle) ([]byte, error) {
	return loadWhole(ctx, r.be, h)
}
