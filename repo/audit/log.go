package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// ErrDamaged: an audit file cannot be read, does not match its name, does
// not open with the master key, or does not decode as a record. The
// message names the file.
var ErrDamaged = errors.New("damaged audit record")

// Log appends and reads the audit records of one repository: be is its
// storage (a repository handle's, so that writes pass its lock checks) and
// key its master key.
type Log struct {
	be  backend.Storage
	key pack.Sealer
}

// New returns the audit trail stored in be, sealed with key.
func New(be backend.Storage, key pack.Sealer) *Log { return &Log{be: be, key: key} }

// listing is the audit folder as one List saw it.
type listing struct {
	bySeq map[uint64][]string // record names by sequence number
	names map[string]bool     // every name that parses
	bad   []string            // names that do not parse
	max   uint64              // the highest sequence number
}

func (l *Log) list(ctx context.Context) (*listing, error) {
	ls := &listing{bySeq: map[uint64][]string{}, names: map[string]bool{}}
	err := l.be.List(ctx, backend.AuditFile, func(fi backend.FileInfo) error {
		seq, _, err := ParseName(fi.Handle.Name)
		if err != nil {
			ls.bad = append(ls.bad, fi.Handle.Name)
			return nil
		}
		ls.bySeq[seq] = append(ls.bySeq[seq], fi.Handle.Name)
		ls.names[fi.Handle.Name] = true
		ls.max = max(ls.max, seq)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing audit records: %w", err)
	}
	for _, names := range ls.bySeq {
		slices.Sort(names)
	}
	slices.Sort(ls.bad)
	return ls, nil
}

// Append stores rec as the next record of the trail and returns its file
// name. It sets rec's Version (the lowest that holds its fields), Seq (one more than the highest sequence
// number stored) and Prev (every record stored with that highest number).
// Two writers at the same time may take the same number; the next writer
// names both.
func (l *Log) Append(ctx context.Context, rec *Record) (string, error) {
	ls, err := l.list(ctx)
	if err != nil {
		return "", err
	}
	rec.Version = rec.formatVersion()
	rec.Seq = ls.max + 1
	rec.Prev = slices.Clone(ls.bySeq[ls.max])
	if rec.Prev == nil {
		rec.Prev = []string{}
	}
	if rec.Args == nil {
		rec.Args = []string{}
	}
	plain, err := Encode(rec)
	if err != nil {
		return "", err
	}
	sealed := l.key.Seal(nil, plain)
	if len(sealed) > MaxFileSize {
		return "", fmt.Errorf("an audit record of %d bytes (its command line holds %d arguments) is larger than the %d bytes a reader loads", len(sealed), len(rec.Args), MaxFileSize)
	}
	h := backend.Handle{Type: backend.AuditFile, Name: FileName(rec.Seq, crypto.FileID(sealed))}
	if err := l.be.Save(ctx, h, backend.NewByteReader(sealed)); err != nil {
		return "", fmt.Errorf("saving audit record %v: %w", h, err)
	}
	rec.Name = h.Name
	return h.Name, nil
}

// Load reads the record stored under name, checks its bytes against the
// name, opens and decodes it. A file that fails any step is an error
// wrapping ErrDamaged; a missing one wraps backend.ErrNotExist.
func (l *Log) Load(ctx context.Context, name string) (*Record, error) {
	h := backend.Handle{Type: backend.AuditFile, Name: name}
	seq, id, err := ParseName(name)
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %v", h, ErrDamaged, err)
	}
	sealed, err := backend.LoadAll(ctx, l.be, h, MaxFileSize)
	if errors.Is(err, backend.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", h, err)
	}
	if crypto.FileID(sealed) != id {
		return nil, fmt.Errorf("%v: %w: content does not match its name (file changed or truncated)", h, ErrDamaged)
	}
	plain, err := l.key.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %v", h, ErrDamaged, err)
	}
	rec, err := Decode(plain)
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %v", h, ErrDamaged, err)
	}
	if rec.Seq != seq {
		return nil, fmt.Errorf("%v: %w: the record holds sequence number %d, its name %d (a file moved)", h, ErrDamaged, rec.Seq, seq)
	}
	rec.Name = name
	return rec, nil
}

// Damage is an audit file that Load refused.
type Damage struct {
	Name string
	Err  error
}

func (d Damage) Error() string { return d.Err.Error() }
func (d Damage) Unwrap() error { return d.Err }

// Filter selects records for List. The zero Filter selects all.
type Filter struct {
	// Since: only records of commands that started at or after it.
	Since time.Time
	// Commands: only records of these commands ("check", "verify
	// drill"); empty means every command.
	Commands []string
	// Workers: how many records are read at once; 0 means 8.
	Workers int
}

func (f Filter) match(rec *Record) bool {
	if !f.Since.IsZero() && rec.Time.Before(f.Since) {
		return false
	}
	return len(f.Commands) == 0 || slices.Contains(f.Commands, rec.Command)
}

// order sorts records oldest first: by sequence number, then time, then
// name (records of one number were written at the same time).
func order(a, b *Record) int {
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}
