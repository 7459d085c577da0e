package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// MisnamedFileError: a content-named file (snapshot, index, protect,
// policy) whose bytes are intact, they open with the master key, but hash
// to another file ID than the name they are stored under: a file copied
// or moved under a wrong name, two files swapped (docs/design.md, "check").
// It is damage (errors.Is(err, ErrDamaged)) for every reader that does not
// look further; what the bytes hold belongs under ID, never under Name.
type MisnamedFileError struct {
	Type backend.FileType
	Name pack.ID // the name the bytes are stored under
	ID   pack.ID // their file ID: the name they belong under
}

func (e *MisnamedFileError) Error() string {
	return fmt.Sprintf("%v: %v: stored under the wrong name, its content is intact and is %s file %s",
		backend.Handle{Type: e.Type, Name: e.Name.String()}, ErrDamaged, e.Type, e.ID.Short())
}

// Is makes a misnamed file count as damage for callers that only ask
// errors.Is(err, ErrDamaged).
func (e *MisnamedFileError) Is(target error) bool { return target == ErrDamaged }

// misnamed returns a MisnamedFileError for sealed bytes stored under name
// when they open with the key, else nil.
func (r *Repository) misnamed(t backend.FileType, name pack.ID, sealed []byte) error {
	if _, err := r.key.Open(nil, sealed); err != nil {
		return nil
	}
	return &MisnamedFileError{Type: t, Name: name, ID: crypto.FileID(sealed)}
}

// LoadMisnamed reads the file of type t stored under name whose bytes
// belong under another name (LoadFile returned a MisnamedFileError), and
// returns its plaintext and its file ID, the ID it must be known by.
func (r *Repository) LoadMisnamed(ctx context.Context, t backend.FileType, name pack.ID) ([]byte, pack.ID, error) {
	h := backend.Handle{Type: t, Name: name.String()}
	sealed, err := loadWhole(ctx, r.be, h)
	if err != nil {
		return nil, pack.ID{}, fmt.Errorf("reading %v: %w", h, err)
	}
	plain, err := r.key.Open(nil, sealed)
	if err != nil {
		return nil, pack.ID{}, fmt.Errorf("%v: %w: %v", h, ErrDamaged, err)
	}
	return plain, crypto.FileID(sealed), nil
}

// Renamed is one misnamed file that RenameMisnamed stored under its own
// name. Duplicate: a file under that name was already intact, so the
// misnamed one was only removed.
type Renamed struct {
	Type      backend.FileType
	Name, ID  pack.ID
	Duplicate bool
}

// MisnamedDecoders are the decoders RenameMisnamed takes for the file
// types whose misnamed files `repair snapshots` renames: snapshot,
// protect, policy and key files (index files are rebuilt by repair index).
// A key file is not sealed: its bytes count as genuine when the journal
// records their file ID as a key file (genuine).
var MisnamedDecoders = map[backend.FileType]func([]byte) error{
	backend.KeyFile:      func(b []byte) error { _, err := decodeKeyFile(b); return err },
	backend.SnapshotFile: func(b []byte) error { _, err := DecodeSnapshot(b); return err },
	backend.ProtectFile:  func(b []byte) error { _, err := DecodeProtection(b); return err },
	backend.PolicyFile:   func(b []byte) error { _, err := DecodeStoredPolicy(b); return err },
}

// RenameMisnamed stores every intact file of type t that is stored under
// a wrong name under its own name (its file ID), then removes the
// misnamed file; decode must accept the plaintext (a snapshot, say), else
// the file is left for the caller's damage handling. Bytes are never
// changed, so a snapshot keeps its ID. Each step leaves every content in
// at least one file: the correct-name file is written (temp, fsync,
// rename, as every save) before the misnamed one is removed, a damaged
// file in the way is removed only while the intact content is stored
// elsewhere, and a cycle (two files swapped) is broken by first copying
// one of them under a spare random name. A crash leaves only files that
// are themselves misnamed and intact, which the next run renames.
func (r *Repository) RenameMisnamed(ctx context.Context, t backend.FileType, decode func([]byte) error) ([]Renamed, error) {
	var done []Renamed
	for round := 0; ; round++ {
		wrong, err := r.FindMisnamed(ctx, t, decode)
		if err != nil || len(wrong) == 0 {
			return done, err
		}
		progress := false
		for _, m := range wrong {
			sealed, err := loadWhole(ctx, r.be, backend.Handle{Type: t, Name: m.Name.String()})
			if err != nil {
				return done, fmt.Errorf("reading %s/%s: %w", t, m.Name, err)
			}
			target := backend.Handle{Type: t, Name: m.ID.String()}
			occupant, err := loadWhole(ctx, r.be, target)
			switch {
			case err == nil && bytes.Equal(occupant, sealed):
				m.Duplicate = true
			case err == nil && r.genuine(ctx, t, occupant):
				continue // another misnamed file is in the way: its own turn, or the cycle break below
			case err == nil:
				// Damaged bytes under the name; the intact content is at m.Name.
				if err := r.be.Remove(ctx, target); err != nil {
					return done, fmt.Errorf("removing the damaged %v: %w", target, err)
				}
				fallthrough
			case errors.Is(err, backend.ErrNotExist):
				if err := saveBytes(ctx, r.be, target, sealed); err != nil {
					return done, fmt.Errorf("saving %v: %w", target, err)
				}
			default:
				return done, fmt.Errorf("reading %v: %w", target, err)
			}
			if err := r.be.Remove(ctx, backend.Handle{Type: t, Name: m.Name.String()}); err != nil {
				return done, fmt.Errorf("removing the misnamed %s/%s: %w", t, m.Name, err)
			}
			done = append(done, m)
			progress = true
		}
		if progress {
			continue
		}
		if round > 2*len(wrong)+2 {
			return done, fmt.Errorf("%s files stored under wrong names could not be renamed", t)
		}
		// Every misnamed file waits for a name that another misnamed file
		// holds: a cycle. Copy the first one's bytes under a spare name,
		// then remove it, freeing its name.
		m := wrong[0]
		h := backend.Handle{Type: t, Name: m.Name.String()}
		sealed, err := loadWhole(ctx, r.be, h)
		if err != nil {
			return done, fmt.Errorf("reading %v: %w", h, err)
		}
		var spare pack.ID
		if _, err := rand.Read(spare[:]); err != nil {
			return done, err
		}
		if err := saveBytes(ctx, r.be, backend.Handle{Type: t, Name: spare.String()}, sealed); err != nil {
			return done, fmt.Errorf("saving a spare copy of %v: %w", h, err)
		}
		if err := r.be.Remove(ctx, h); err != nil {
			return done, fmt.Errorf("removing %v after copying it: %w", h, err)
		}
	}
}

// FindMisnamed lists the files of type t that are intact, decode, and are
// stored under a wrong name, sorted by name.
func (r *Repository) FindMisnamed(ctx context.Context, t backend.FileType, decode func([]byte) error) ([]Renamed, error) {
	if t == backend.KeyFile {
		return r.findMisnamedKeys(ctx)
	}
	ids, err := r.List(ctx, t)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ids, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	var wrong []Renamed
	for _, id := range ids {
		_, err := r.LoadFile(ctx, t, id)
		var m *MisnamedFileError
		if !errors.As(err, &m) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		plain, _, err := r.LoadMisnamed(ctx, t, id)
		if err != nil || decode(plain) != nil {
			continue
		}
		wrong = append(wrong, Renamed{Type: t, Name: id, ID: m.ID})
	}
	return wrong, nil
}

// genuine tells whether bytes stored as a file of type t are intact
// content of that type under some name: sealed bytes that open with the
// master key, or for a key file (not sealed) bytes whose file ID the
// journal records as a key file and that decode as one.
func (r *Repository) genuine(ctx context.Context, t backend.FileType, data []byte) bool {
	if t != backend.KeyFile {
		_, err := r.key.Open(nil, data)
		return err == nil
	}
	if _, err := decodeKeyFile(data); err != nil {
		return false
	}
	return r.journalKnowsKey(ctx, crypto.FileID(data))
}

// findMisnamedKeys lists the key files stored under a wrong name whose
// bytes the journal records as another key file, sorted by name.
func (r *Repository) findMisnamedKeys(ctx context.Context) ([]Renamed, error) {
	j, err := r.LoadJournal(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := r.List(ctx, backend.KeyFile)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ids, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	var wrong []Renamed
	for _, name := range ids {
		if id, _, ok := r.MisnamedKeyFile(ctx, j, name.String()); ok {
			wrong = append(wrong, Renamed{Type: backend.KeyFile, Name: name, ID: id})
		}
	}
	return wrong, nil
}
