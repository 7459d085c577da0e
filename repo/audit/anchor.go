package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"strata/internal/atomicfile"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// Anchor is the newest audit record that one client wrote or saw of one
// repository, kept outside it in the client's state folder
// (docs/design.md, "The audit trail", "Anchors"): a record once stored is
// never removed, so a trail that no longer holds it lost its newest
// records, which its chain cannot show.
type Anchor struct {
	// Repository is the repository's location as the client named it.
	Repository string    `json:"repository"`
	Seq        uint64    `json:"seq"`
	Name       string    `json:"name"`
	Time       time.Time `json:"time"` // when the record's command started

	// Path is the file the anchor is kept in (not stored).
	Path string `json:"-"`
}

// AnchorPath is the file in dir that keeps the anchor of the repository
// with config ID id at location: one per repository and location, so
// that two copies of one repository (one ID) keep their own.
func AnchorPath(dir, id, location string) string {
	return filepath.Join(dir, crypto.FileID([]byte(id+"\n"+location)).String())
}

// LoadAnchor reads the anchor kept in path; nil when there is none.
func LoadAnchor(path string) (*Anchor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit anchor %s: %w", path, err)
	}
	a := &Anchor{Path: path}
	if err := json.Unmarshal(b, a); err != nil || a.Seq == 0 {
		return nil, fmt.Errorf("the audit anchor %s is damaged (remove it to start a new one): %v", path, err)
	}
	if _, _, err := ParseName(a.Name); err != nil {
		return nil, fmt.Errorf("the audit anchor %s is damaged (remove it to start a new one): %v", path, err)
	}
	return a, nil
}

// Lost reports whether storage no longer holds the record a names.
func (l *Log) Lost(ctx context.Context, a *Anchor) (bool, error) {
	_, err := l.be.Stat(ctx, backend.Handle{Type: backend.AuditFile, Name: a.Name})
	if errors.Is(err, backend.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for audit record %s: %w", a.Name, err)
	}
	return false, nil
}

// Advance keeps rec, just appended to or read from l, as the anchor in
// path of the repository at location, when it is newer than the anchor
// kept there and that anchor's record is still stored: an anchor whose
// record was removed stays, so that every check on this client reports
// it until the record is back (or the file is removed).
func (l *Log) Advance(ctx context.Context, path, location string, rec *Record) error {
	old, err := LoadAnchor(path)
	if err != nil {
		return err
	}
	if old != nil {
		if old.Seq >= rec.Seq {
			return nil
		}
		if lost, err := l.Lost(ctx, old); err != nil || lost {
			return err
		}
	}
	b, err := json.Marshal(Anchor{Repository: location, Seq: rec.Seq, Name: rec.Name, Time: rec.Time})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keeping the audit anchor: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}
