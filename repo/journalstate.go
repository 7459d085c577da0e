package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// Journal is the journal as read from storage: every journal file, and the
// files it records as held after replaying them (docs/design.md, "The
// journal").
type Journal struct {
	// Files are the journal files in storage, sorted by name.
	Files []JournalFileInfo
	// Live are the files the journal records as held: replayed in order
	// of (sequence number, file ID), each base file starting afresh.
	Live map[JournalKey]JournalRecord
	// Recorded are the files any readable record names, held or removed.
	Recorded map[JournalKey]bool
	// Started: a readable base file exists. Until one does (a repository
	// made before the journal), Live holds only what was recorded since,
	// and files without a record are expected.
	Started bool
	// Gaps are the sequence numbers missing between the newest base file
	// and the newest journal file: journal files that were deleted.
	Gaps []uint64
	// MaxSeq is the highest sequence number among the names.
	MaxSeq uint64
}

// JournalFileInfo is one journal file in storage.
type JournalFileInfo struct {
	Name string
	Seq  uint64 // from the name
	// File is the decoded content; nil when Err says it could not be
	// read, opened or decoded.
	File *JournalFile
	// Err is the damage: set too for a file whose bytes open and decode
	// but do not hash to its name or whose sequence number differs from
	// its name's (a file moved or swapped); its records are used all the
	// same, since they are authenticated.
	Err error
}

// Healthy reports whether the journal can be compacted without hiding
// damage: no file is damaged, no file is missing, and it is started.
func (j *Journal) Healthy() bool {
	if !j.Started || len(j.Gaps) > 0 {
		return false
	}
	for _, f := range j.Files {
		if f.Err != nil {
			return false
		}
	}
	return true
}

// LoadJournal reads every journal file and replays their records.
func (r *Repository) LoadJournal(ctx context.Context) (*Journal, error) {
	j := &Journal{Live: map[JournalKey]JournalRecord{}, Recorded: map[JournalKey]bool{}}
	err := r.be.List(ctx, backend.JournalFile, func(fi backend.FileInfo) error {
		info := JournalFileInfo{Name: fi.Handle.Name}
		seq, id, err := ParseJournalName(fi.Handle.Name)
		if err != nil {
			info.Err = fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		info.Seq = seq
		j.MaxSeq = max(j.MaxSeq, seq)
		if info.Err == nil {
			info.File, info.Err = r.loadJournalFile(ctx, fi.Handle, seq, id)
		}
		j.Files = append(j.Files, info)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing journal files: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	slices.SortFunc(j.Files, func(a, b JournalFileInfo) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	j.replay()
	return j, nil
}

// loadJournalFile reads, verifies, opens and decodes one journal file. A
// file whose bytes open and decode under another name is returned with an
// error that says so.
func (r *Repository) loadJournalFile(ctx context.Context, h backend.Handle, seq uint64, id pack.ID) (*JournalFile, error) {
	sealed, err := loadWhole(ctx, r.be, h)
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", h, err)
	}
	plain, err := r.key.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	f, err := DecodeJournalFile(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	switch {
	case crypto.FileID(sealed) != id:
		return f, fmt.Errorf("%w: its content does not match its name, but opens: it is journal file %s, stored under the wrong name",
			ErrDamaged, journalName(f.Seq, crypto.FileID(sealed)))
	case f.Seq != seq:
		return f, fmt.Errorf("%w: its name says sequence number %d, its content %d", ErrDamaged, seq, f.Seq)
	}
	return f, nil
}

// replay computes Live, Recorded, Started and Gaps from Files.
func (j *Journal) replay() {
	var files []*JournalFile
	for _, f := range j.Files {
		if f.File != nil {
			files = append(files, f.File)
		}
	}
	// Order by sequence number; files of one sequence number (written at
	// once by writers under a shared lock, about different files) in the
	// order of their names, which is any fixed order.
	slices.SortStableFunc(files, func(a, b *JournalFile) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	var baseSeq uint64
	for _, f := range files {
		if f.Base {
			clear(j.Live)
			j.Started = true
			baseSeq = f.Seq
		}
		for _, rec := range f.Records {
			j.Recorded[rec.Key()] = true
			switch rec.Op {
			case JournalAdd:
				j.Live[rec.Key()] = rec
			case JournalRemove:
				delete(j.Live, rec.Key())
			}
		}
	}
	if !j.Started {
		return
	}
	named := map[uint64]bool{}
	for _, f := range j.Files {
		named[f.Seq] = true
	}
	for s := baseSeq; s <= j.MaxSeq && s != 0; s++ {
		if !named[s] {
			j.Gaps = append(j.Gaps, s)
		}
	}
}

// JournalPresent lists the files of the kinds the journal records that
// storage holds, by name (names that are not file IDs are left out: no
// writer makes them).
func (r *Repository) JournalPresent(ctx context.Context) (map[JournalKey]bool, error) {
	present := map[JournalKey]bool{}
	for _, t := range JournalKinds {
		ids, err := r.List(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			present[JournalKey{Kind: t, ID: id}] = true
		}
	}
	return present, nil
}

// journalKnowsKey tells whether a record of the journal names key file
// id: the bytes of a key file that hash to such an ID are a genuine key
// file of this repository, whatever name they are stored under (key
// files are not sealed, so nothing else can tell).
func (r *Repository) journalKnowsKey(ctx context.Context, id pack.ID) bool {
	j, err := r.LoadJournal(ctx)
	return err == nil && j.Recorded[JournalKey{Kind: backend.KeyFile, ID: id}]
}

func compareKeys(a, b JournalKey) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// MisnamedKeyFile tells whether keys/name holds, intact, the bytes of
// another key file that the journal j records: a key file moved or
// copied under a wrong name, or two swapped. It returns that key file's
// name (the file ID of the bytes), and whether a file under that name
// holds the same bytes (a duplicate).
func (r *Repository) MisnamedKeyFile(ctx context.Context, j *Journal, name string) (id pack.ID, duplicate, ok bool) {
	data, err := loadWhole(ctx, r.be, backend.Handle{Type: backend.KeyFile, Name: name})
	if err != nil {
		return id, false, false
	}
	id = crypto.FileID(data)
	if id.String() == name || !j.Recorded[JournalKey{Kind: backend.KeyFile, ID: id}] {
		return id, false, false
	}
	if _, err := decodeKeyFile(data); err != nil {
		return id, false, false
	}
	there, err := loadWhole(ctx, r.be, backend.Handle{Type: backend.KeyFile, Name: id.String()})
	return id, err == nil && bytes.Equal(there, data), true
}
