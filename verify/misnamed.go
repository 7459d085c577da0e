package verify

import (
	"context"
	"errors"
	"fmt"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// MisnamedSnapshot: a snapshot file whose bytes are intact (they open
// and decode) is stored under a wrong name: a file moved or copied there,
// or two snapshot files swapped. Snapshot is its real ID, the file ID of
// its bytes; the snapshot is checked under that ID, never under File.
// Duplicate: a file under its own name holds it too.
type MisnamedSnapshot struct {
	File      pack.ID
	Snapshot  pack.ID
	Duplicate bool
}

func (*MisnamedSnapshot) Severity() Severity { return SeverityError }

func (e *MisnamedSnapshot) Error() string {
	s := fmt.Sprintf("snapshot file %s is stored under the wrong name (its content is snapshot %s, intact); ",
		handle(backend.SnapshotFile, e.File), e.Snapshot.Short())
	if e.Duplicate {
		s += "it is a copy of the file stored under that name"
	} else {
		s += "readers find it only under its own ID"
	}
	return s + "; `strata repair snapshots` stores it under its own name and removes the misnamed file " +
		"(its content is a genuine snapshot sealed with the master key, though it may be an older one planted under a new name)"
}

// misnamedResult is a snapshot file stored under a wrong name, loaded.
type misnamedResult struct {
	sn      *repo.Snapshot
	finding *MisnamedSnapshot
}

// misnamedSnapshot loads the snapshot behind err when err says its file
// is intact but misnamed and its plaintext decodes as a snapshot.
func (w *walker) misnamedSnapshot(ctx context.Context, err error) (misnamedResult, bool) {
	var m *repo.MisnamedFileError
	if !errors.As(err, &m) {
		return misnamedResult{}, false
	}
	plain, id, err := w.c.r.LoadMisnamed(ctx, backend.SnapshotFile, m.Name)
	if err != nil {
		return misnamedResult{}, false
	}
	sn, err := repo.DecodeSnapshot(plain)
	if err != nil {
		return misnamedResult{}, false
	}
	sn.ID = id
	_, err = w.c.r.LoadSnapshot(ctx, id)
	return misnamedResult{sn: sn, finding: &MisnamedSnapshot{File: m.Name, Snapshot: id, Duplicate: err == nil}}, true
}
