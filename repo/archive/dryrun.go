package archive

import (
	"context"
	"sync"

	"strata/pack"
	"strata/repo"
)

// DryRunBase is what a dry run needs of a repository: its trees and
// config, which blobs it holds, and how blobs are named.
type DryRunBase interface {
	LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error)
	Config() repo.Config
	HasBlob(id pack.ID) bool
	BlobID(plain []byte) pack.ID
}

// DryRun is a Repository that stores nothing: a backup through it reads
// and chunks as usual and learns which blobs the repository lacks. Its
// SaveResult.Stored is the plaintext size of each new blob (what would be
// compressed, encrypted and stored), so the backup's counters and summary
// tell what a real backup would add before compression.
type DryRun struct {
	base DryRunBase
	mu   sync.Mutex
	seen map[pack.ID]bool // new blobs met so far
}

// NewDryRun returns a dry run over base.
func NewDryRun(base DryRunBase) *DryRun {
	return &DryRun{base: base, seen: map[pack.ID]bool{}}
}

// SaveBlob names the blob and counts it when neither the repository nor
// this run has it.
func (d *DryRun) SaveBlob(_ context.Context, _ pack.BlobType, plain []byte, _ pack.ID) (repo.SaveResult, error) {
	id := d.base.BlobID(plain)
	res := repo.SaveResult{ID: id}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[id] || d.base.HasBlob(id) {
		return res, nil
	}
	d.seen[id] = true
	res.Stored = len(plain)
	return res, nil
}

// SaveTree names the tree as SaveBlob does.
func (d *DryRun) SaveTree(ctx context.Context, t *repo.Tree) (pack.ID, error) {
	b, err := repo.EncodeTree(t)
	if err != nil {
		return pack.ID{}, err
	}
	res, err := d.SaveBlob(ctx, pack.TreeBlob, b, pack.ID{})
	return res.ID, err
}

// LoadTree loads a tree of the repository (the parent snapshot's).
func (d *DryRun) LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error) {
	return d.base.LoadTree(ctx, id)
}

// Flush does nothing: nothing was stored.
func (d *DryRun) Flush(context.Context) error { return nil }

// SaveSnapshot does nothing: the snapshot keeps a null ID.
func (d *DryRun) SaveSnapshot(context.Context, *repo.Snapshot) error { return nil }

// Config returns the repository's config, whose chunker parameters the
// backup uses.
func (d *DryRun) Config() repo.Config { return d.base.Config() }
