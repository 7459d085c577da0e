package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// Protection is the sealed JSON of protect/<ID> (docs/design.md,
// "Retention policy and protections"): forget keeps Snapshot while the
// protection is active, whatever the policy says.
type Protection struct {
	Snapshot pack.ID   `json:"snapshot"`
	Time     time.Time `json:"time"`           // when it was written
	Until    time.Time `json:"until,omitzero"` // zero: no end
	Reason   string    `json:"reason"`         // free text, may be empty
	Host     string    `json:"host"`           // who wrote it
	Username string    `json:"username,omitempty"`

	ID pack.ID `json:"-"`
}

// Active reports whether p still protects its snapshot at now: it has no
// end, or its end is after now.
func (p Protection) Active(now time.Time) bool {
	return p.Until.IsZero() || p.Until.After(now)
}

// DecodeProtection parses and validates the plaintext of a protect file.
func DecodeProtection(plain []byte) (Protection, error) {
	var p Protection
	if err := json.Unmarshal(plain, &p); err != nil {
		return Protection{}, err
	}
	if p.Snapshot.IsNull() {
		return Protection{}, errors.New("protection names no snapshot")
	}
	if p.Time.IsZero() {
		return Protection{}, errors.New("protection has no time")
	}
	return p, nil
}

// Now is the repository's clock (Options.Now), the one Protect and
// forget judge protections by.
func (r *Repository) Now() time.Time { return r.opts.Now() }

// Protect writes a protection of the snapshot id until the given time
// (zero: no end), with a reason. The snapshot must exist and until must
// lie in the future.
func (r *Repository) Protect(ctx context.Context, id pack.ID, until time.Time, reason string) (Protection, error) {
	now := r.opts.Now()
	if !until.IsZero() && !until.After(now) {
		return Protection{}, fmt.Errorf("protecting snapshot %s until %s: that time has passed", id.Short(), until.Format(time.RFC3339))
	}
	_, err := r.be.Stat(ctx, backend.Handle{Type: backend.SnapshotFile, Name: id.String()})
	if errors.Is(err, backend.ErrNotExist) {
		return Protection{}, fmt.Errorf("protecting snapshot %s: %w", id.Short(), ErrSnapshotNotFound)
	}
	if err != nil {
		return Protection{}, fmt.Errorf("protecting snapshot %s: %w", id.Short(), err)
	}
	p := Protection{Snapshot: id, Time: now, Until: until, Reason: reason}
	p.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		p.Username = u.Username
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return Protection{}, err
	}
	if p.ID, err = r.SaveFile(ctx, backend.ProtectFile, plain); err != nil {
		return Protection{}, fmt.Errorf("protecting snapshot %s: %w", id.Short(), err)
	}
	return p, nil
}

// Protections loads every protect file, sorted by snapshot, time and ID. A
// damaged protect file cannot say which snapshot it protects: Protections
// then returns the readable ones together with an error naming every
// damaged file, and whoever decides what to remove (forget) must stop.
func (r *Repository) Protections(ctx context.Context) ([]Protection, error) {
	ids, err := r.List(ctx, backend.ProtectFile)
	if err != nil {
		return nil, err
	}
	var out []Protection
	var errs []error
	for _, id := range ids {
		p, err := r.loadProtection(ctx, id)
		if errors.Is(err, backend.ErrNotExist) {
			continue // removed while we listed
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Snapshot != out[j].Snapshot {
			return out[i].Snapshot.String() < out[j].Snapshot.String()
		}
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	if len(errs) > 0 {
		return out, fmt.Errorf("%w (which snapshot it protects is unknown: restore the file from a copy of the repository, or run `strata unprotect --damaged` to drop that protection)", errors.Join(errs...))
	}
	return out, nil
}

func (r *Repository) loadProtection(ctx context.Context, id pack.ID) (Protection, error) {
	plain, err := r.LoadFile(ctx, backend.ProtectFile, id)
	if err != nil {
		return Protection{}, err
	}
	p, err := DecodeProtection(plain)
	if err != nil {
		return Protection{}, fmt.Errorf("protect file %s: %w: %v", id.Short(), ErrDamaged, err)
	}
	p.ID = id
	return p, nil
}

// Unprotect removes every protect file naming the snapshot id, active or
// expired, and returns what it removed (nothing if the snapshot was not
// protected). It refuses to run while a protect file is damaged, since
// that file may name the snapshot too.
func (r *Repository) Unprotect(ctx context.Context, id pack.ID) ([]Protection, error) {
	all, err := r.Protections(ctx)
	if err != nil {
		return nil, err
	}
	var removed []Protection
	for _, p := range all {
		if p.Snapshot != id {
			continue
		}
		if err := r.RemoveProtection(ctx, p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// RemoveProtection removes the protect file of p.
func (r *Repository) RemoveProtection(ctx context.Context, p Protection) error {
	r.touch(p.Snapshot)
	return r.removeIfPresent(ctx, backend.ProtectFile, p.ID)
}

// RemoveDamagedProtections removes the protect files that cannot be read
// or decoded, and returns their IDs. A storage error that is not about
// the file's bytes stops it.
func (r *Repository) RemoveDamagedProtections(ctx context.Context) ([]pack.ID, error) {
	ids, err := r.List(ctx, backend.ProtectFile)
	if err != nil {
		return nil, err
	}
	var removed []pack.ID
	for _, id := range ids {
		_, err := r.loadProtection(ctx, id)
		if err == nil || errors.Is(err, backend.ErrNotExist) {
			continue
		}
		if !errors.Is(err, ErrDamaged) {
			return removed, err
		}
		if err := r.removeIfPresent(ctx, backend.ProtectFile, id); err != nil {
			return removed, err
		}
		removed = append(removed, id)
	}
	return removed, nil
}
