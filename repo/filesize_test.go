package repo_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// TestIndexFilesAreBounded saves more small blobs than one index file may
// gather: the backup's index is split into files that each end at the
// first pack that reaches index.MaxFileEntries, so no file outgrows
// index.MaxFileSize (before, SaveIndex put every pending pack in one file).
func TestIndexFilesAreBounded(t *testing.T) {
	r, _ := repotest.New(t)
	const n = index.MaxFileEntries + 5000
	var b [8]byte
	for i := range n {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		if _, err := r.SaveBlob(ctx, pack.DataBlob, b[:], pack.ID{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := r.List(ctx, backend.IndexFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 {
		t.Fatalf("%d blobs went into %d index file(s), want them split", n, len(ids))
	}
	total := 0
	for _, id := range ids {
		plain, err := r.LoadFile(ctx, backend.IndexFile, id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := index.Decode(plain)
		if err != nil {
			t.Fatal(err)
		}
		entries := 0
		for i, p := range f.Packs {
			if entries >= index.MaxFileEntries {
				t.Errorf("index file %s holds pack %d after %d entries", id.Short(), i, entries)
			}
			entries += len(p.Blobs)
		}
		total += entries
	}
	if total != n {
		t.Errorf("index files hold %d entries, want %d", total, n)
	}
}

// TestSaveFileRefusesOversizedFiles: a file over its type's size is not
// stored, so strata never writes a file its readers call damaged.
func TestSaveFileRefusesOversizedFiles(t *testing.T) {
	r, _ := repotest.New(t)
	_, err := r.SaveFile(ctx, backend.ProtectFile, make([]byte, repo.MaxProtectFileSize))
	if err == nil || !strings.Contains(err.Error(), "more than the 65536 bytes") {
		t.Errorf("SaveFile of an oversized protect file: %v", err)
	}
	if ids, _ := r.List(ctx, backend.ProtectFile); len(ids) != 0 {
		t.Errorf("the oversized file was stored: %v", ids)
	}
}

// TestLoadFileRefusesOversizedFiles: a stored file over its type's size is
// damaged (ErrDamaged and backend.ErrTooLarge), named, and not read.
func TestLoadFileRefusesOversizedFiles(t *testing.T) {
	r, be := repotest.New(t)
	repotest.SkipCheck(t)
	var id pack.ID
	id[0] = 1
	h := backend.Handle{Type: backend.PolicyFile, Name: id.String()}
	if err := be.Save(ctx, h, backend.NewByteReader([]byte(strings.Repeat("x", repo.MaxPolicyFileSize+1)))); err != nil {
		t.Fatal(err)
	}
	_, err := r.LoadFile(ctx, backend.PolicyFile, id)
	if !errors.Is(err, repo.ErrDamaged) || !errors.Is(err, backend.ErrTooLarge) || !strings.Contains(err.Error(), h.String()) {
		t.Errorf("LoadFile of an oversized policy file: %v", err)
	}
}
