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

// MisnamedFile: a protect or policy file whose bytes are intact (they
// open and decode) is stored under a wrong name; ID is the file ID of its
// bytes. It counts as before once stored under that name. Duplicate: a
// file under that name holds it too.
type MisnamedFile struct {
	Type      backend.FileType
	File      pack.ID
	ID        pack.ID
	Duplicate bool
}

func (*MisnamedFile) Severity() Severity { return SeverityError }

func (e *MisnamedFile) Error() string {
	s := fmt.Sprintf("%s file %s is stored under the wrong name (its content is %s file %s, intact)",
		e.Type, handle(e.Type, e.File), e.Type, e.ID.Short())
	if e.Duplicate {
		s += "; it is a copy of the file stored under that name"
	}
	return s + "; until it is renamed, forget reads it as damaged: `strata repair snapshots` stores it under its own name and removes the misnamed file"
}

// misnamedFile returns a MisnamedFile finding when err says the file of
// type t is intact but misnamed and its plaintext decodes, else nil.
func (c *checker) misnamedFile(ctx context.Context, t backend.FileType, err error) *MisnamedFile {
	var m *repo.MisnamedFileError
	if !errors.As(err, &m) {
		return nil
	}
	plain, id, err := c.r.LoadMisnamed(ctx, t, m.Name)
	if err != nil || repo.MisnamedDecoders[t](plain) != nil {
		return nil
	}
	_, err = c.r.LoadFile(ctx, t, id)
	return &MisnamedFile{Type: t, File: m.Name, ID: id, Duplicate: err == nil}
}
