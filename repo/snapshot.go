package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// Snapshot is the sealed JSON in snapshots/<ID> (docs/design.md,
// "Snapshots"). Source describes what was saved and never holds a secret.
type Snapshot struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Username string    `json:"username,omitempty"`
	Tags     []string  `json:"tags,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Source   string    `json:"source"`
	Paths    []string  `json:"paths"`
	Tree     pack.ID   `json:"tree"`
	Parent   *pack.ID  `json:"parent,omitempty"`
	// Original is the ID of the snapshot this one replaced when its tags
	// were changed (strata tag), the first of a chain.
	Original *pack.ID `json:"original,omitempty"`
	Summary  Summary  `json:"summary"`
	Program  string   `json:"program,omitempty"`
	// Meta holds extra facts, such as the command a guard snapshot
	// protected.
	Meta map[string]string `json:"meta,omitempty"`

	// ID is the file ID; set when loaded or saved, not stored.
	ID pack.ID `json:"-"`
}

// Summary records what a backup did.
type Summary struct {
	BytesRead      uint64  `json:"bytes_read"`
	BytesAdded     uint64  `json:"bytes_added"` // sealed bytes added to packs
	BlobsAdded     uint64  `json:"blobs_added"`
	FilesNew       uint64  `json:"files_new"`
	FilesChanged   uint64  `json:"files_changed"`
	FilesUnchanged uint64  `json:"files_unchanged"`
	Seconds        float64 `json:"seconds"`
}

// HasTag reports whether the snapshot carries tag.
func (s *Snapshot) HasTag(tag string) bool {
	for _, t := range s.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// MaxSnapshotFuture is how far after now a snapshot time may lie (clocks
// of hosts differ a little). One mistaken time further ahead would stay
// "latest" and the parent of every later backup.
const MaxSnapshotFuture = time.Hour

// CheckSnapshotTime refuses a snapshot time before 1970 or more than
// MaxSnapshotFuture after now.
func CheckSnapshotTime(t, now time.Time) error {
	switch {
	case t.Before(time.Unix(0, 0)):
		return fmt.Errorf("%w: %s is before 1970", ErrSnapshotTime, t.Format(time.RFC3339))
	case t.After(now.Add(MaxSnapshotFuture)):
		return fmt.Errorf("%w: %s is more than %v in the future (now is %s)", ErrSnapshotTime, t.Format(time.RFC3339), MaxSnapshotFuture, now.Format(time.RFC3339))
	}
	return nil
}

// SaveSnapshot writes sn and sets its ID. The blobs it references must
// already be indexed (call Flush first), and its time must pass
// CheckSnapshotTime.
func (r *Repository) SaveSnapshot(ctx context.Context, sn *Snapshot) error {
	if err := CheckSnapshotTime(sn.Time, r.Now()); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if !r.Index().Has(sn.Tree) {
		return fmt.Errorf("saving snapshot: root tree %s is not indexed (Flush before SaveSnapshot)", sn.Tree.Short())
	}
	plain, err := json.Marshal(sn)
	if err != nil {
		return err
	}
	id, err := r.SaveFile(ctx, backend.SnapshotFile, plain)
	if err != nil {
		return err
	}
	sn.ID = id
	r.mu.Lock()
	if r.indexedSnapshots != nil {
		r.indexedSnapshots[id] = true
	}
	r.mu.Unlock()
	return nil
}

// LoadSnapshot reads the snapshot id.
func (r *Repository) LoadSnapshot(ctx context.Context, id pack.ID) (*Snapshot, error) {
	plain, err := r.LoadFile(ctx, backend.SnapshotFile, id)
	if err != nil {
		return nil, err
	}
	sn, err := DecodeSnapshot(plain)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w: %v", id.Short(), ErrDamaged, err)
	}
	sn.ID = id
	return sn, nil
}

// RemoveSnapshot removes the snapshot file id. The data it references
// stays until prune; protect files naming it are the caller's to remove
// (forget removes them after the snapshots).
func (r *Repository) RemoveSnapshot(ctx context.Context, id pack.ID) error {
	h := backend.Handle{Type: backend.SnapshotFile, Name: id.String()}
	if err := r.be.Remove(ctx, h); err != nil {
		return fmt.Errorf("removing snapshot %s: %w", id.Short(), err)
	}
	return nil
}

// DecodeSnapshot parses and validates the plaintext of a snapshot file.
func DecodeSnapshot(plain []byte) (*Snapshot, error) {
	sn := &Snapshot{}
	if err := json.Unmarshal(plain, sn); err != nil {
		return nil, err
	}
	if sn.Tree.IsNull() {
		return nil, fmt.Errorf("snapshot names no root tree")
	}
	if sn.Time.IsZero() {
		return nil, fmt.Errorf("snapshot has no time")
	}
	return sn, nil
}

// Snapshots loads every snapshot, oldest first. A damaged snapshot file is
// an error naming it. Once the index is loaded, a snapshot file saved by
// another process after it loaded is left out: the index may lack its
// blobs (see indexedSnapshots); loading the index again shows it.
//
// A snapshot file that cannot be read is an error naming it, unless
// SkipDamagedSnapshots was called.
func (r *Repository) Snapshots(ctx context.Context) ([]*Snapshot, error) {
	ids, err := r.List(ctx, backend.SnapshotFile)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	skip := r.skipDamagedSnapshots
	if r.indexedSnapshots != nil {
		ids = slices.DeleteFunc(ids, func(id pack.ID) bool { return !r.indexedSnapshots[id] })
	}
	r.mu.Unlock()
	sns := make([]*Snapshot, 0, len(ids))
	for _, id := range ids {
		sn, err := r.LoadSnapshot(ctx, id)
		if skip {
			sn, err = r.acceptMisnamed(ctx, sn, err)
		}
		if skip && errors.Is(err, ErrDamaged) {
			r.Notify("skipping damaged snapshot file %v: `strata check` reports it", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		sns = append(sns, sn)
	}
	if skip {
		// A misnamed copy of a snapshot stored under its own name too
		// is one snapshot.
		sort.SliceStable(sns, func(i, j int) bool { return sns[i].ID.String() < sns[j].ID.String() })
		sns = slices.CompactFunc(sns, func(a, b *Snapshot) bool { return a.ID == b.ID })
	}
	sort.Slice(sns, func(i, j int) bool {
		if !sns[i].Time.Equal(sns[j].Time) {
			return sns[i].Time.Before(sns[j].Time)
		}
		return sns[i].ID.String() < sns[j].ID.String()
	})
	return sns, nil
}

// FindSnapshot resolves "latest" (or "latest~N", LatestRef), a full ID
// or a unique ID prefix.
func (r *Repository) FindSnapshot(ctx context.Context, ref string) (*Snapshot, error) {
	if n, ok, err := LatestRef(ref); err != nil || ok {
		if err != nil {
			return nil, err
		}
		sns, err := r.Snapshots(ctx)
		if err != nil {
			return nil, err
		}
		if len(sns) == 0 {
			return nil, fmt.Errorf("%w: the repository has no snapshots", ErrSnapshotNotFound)
		}
		return BeforeLatest(sns, n, ref, "in the repository")
	}
	id, err := r.FindID(ctx, backend.SnapshotFile, ref)
	var sn *Snapshot
	if err == nil {
		sn, err = r.LoadSnapshot(ctx, id)
	}
	r.mu.Lock()
	skip := r.skipDamagedSnapshots
	r.mu.Unlock()
	var m *MisnamedFileError
	if !skip || (err != nil && !errors.Is(err, ErrSnapshotNotFound) && !errors.As(err, &m)) {
		return sn, err
	}
	if err == nil && strings.HasPrefix(sn.ID.String(), strings.ToLower(ref)) {
		return sn, nil
	}
	// The file under that name holds another snapshot, or no file has
	// that name: a reader also finds a snapshot stored under a wrong name
	// by its own ID (its content's file ID), never by the name.
	sns, lerr := r.Snapshots(ctx)
	if lerr != nil {
		return nil, err
	}
	var found []*Snapshot
	for _, s := range sns {
		if strings.HasPrefix(s.ID.String(), strings.ToLower(ref)) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, err
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%w: %q matches %d snapshots", ErrAmbiguous, ref, len(found))
}

// acceptMisnamed turns the error of a snapshot file that is stored under
// a wrong name but intact into the snapshot its content is, known by its
// own ID, with a notice naming the file (for readers only; see
// SkipDamagedSnapshots).
func (r *Repository) acceptMisnamed(ctx context.Context, sn *Snapshot, err error) (*Snapshot, error) {
	var m *MisnamedFileError
	if !errors.As(err, &m) {
		return sn, err
	}
	plain, id, lerr := r.LoadMisnamed(ctx, backend.SnapshotFile, m.Name)
	if lerr != nil {
		return nil, err
	}
	got, derr := DecodeSnapshot(plain)
	if derr != nil {
		return nil, err
	}
	got.ID = id
	r.Notify("snapshot file %s is stored under the wrong name: its content is snapshot %s, read as that snapshot "+
		"(a genuine snapshot of this repository, though possibly an older one placed there; `strata check` reports it, "+
		"`strata repair snapshots` stores it under its own name)",
		backend.Handle{Type: backend.SnapshotFile, Name: m.Name.String()}, id.Short())
	return got, nil
}

// FindID resolves a full ID or a unique prefix of a file of type t.
func (r *Repository) FindID(ctx context.Context, t backend.FileType, ref string) (pack.ID, error) {
	ref = strings.ToLower(ref)
	if len(ref) < 4 {
		return pack.ID{}, fmt.Errorf("%q is too short: give at least 4 hex characters of the ID", ref)
	}
	ids, err := r.List(ctx, t)
	if err != nil {
		return pack.ID{}, err
	}
	var found []pack.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), ref) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		if t == backend.SnapshotFile {
			return pack.ID{}, fmt.Errorf("%w: no snapshot %q", ErrSnapshotNotFound, ref)
		}
		return pack.ID{}, fmt.Errorf("no %s file %q: %w", t, ref, backend.ErrNotExist)
	case 1:
		return found[0], nil
	default:
		return pack.ID{}, fmt.Errorf("%w: %q matches %d %s files", ErrAmbiguous, ref, len(found), t)
	}
}

// FindBlob resolves a full blob ID or a unique prefix of at least 4 hex
// characters among the blobs of the loaded index. A prefix costs a pass
// over the index.
func (r *Repository) FindBlob(ref string) (pack.ID, error) {
	ref = strings.ToLower(ref)
	if len(ref) == 2*pack.IDSize {
		return pack.ParseID(ref)
	}
	if len(ref) < 4 {
		return pack.ID{}, fmt.Errorf("%q is too short: give at least 4 hex characters of the ID", ref)
	}
	var found []pack.ID
	r.Index().Each(func(id pack.ID, _ index.Location) bool {
		if strings.HasPrefix(id.String(), ref) && !slices.Contains(found, id) {
			found = append(found, id)
		}
		return len(found) < 2
	})
	switch len(found) {
	case 0:
		return pack.ID{}, fmt.Errorf("%w: no blob %q", ErrBlobNotFound, ref)
	case 1:
		return found[0], nil
	default:
		return pack.ID{}, fmt.Errorf("%w: %q matches more than one blob", ErrAmbiguous, ref)
	}
}

// SkipDamagedSnapshots makes Snapshots (and so "latest") skip snapshot
// files that are damaged, with a notice naming each, instead of failing:
// for commands that only read, which one damaged snapshot file must not
// stop from listing or restoring the others. Commands that decide what to
// delete (forget, prune) must not call it: a snapshot they cannot read
// still needs its data, and may come back from another copy.
func (r *Repository) SkipDamagedSnapshots() {
	r.mu.Lock()
	r.skipDamagedSnapshots = true
	r.mu.Unlock()
}
