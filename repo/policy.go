package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// StoredPolicy is the sealed JSON of policy/<ID> (docs/design.md,
// "Retention policy and protections"). The repository does not interpret
// the rules: Policy is the JSON object package retention writes and reads
// (retention imports repo, so repo cannot import it).
type StoredPolicy struct {
	Time   time.Time       `json:"time"`
	Policy json.RawMessage `json:"policy"`
	// Timezone names the zone of the calendar buckets, "Europe/Berlin";
	// empty means the local time of whoever runs forget.
	Timezone string `json:"timezone"`

	ID pack.ID `json:"-"`
}

// DecodeStoredPolicy parses the plaintext of a policy file: a time and a
// JSON object.
func DecodeStoredPolicy(plain []byte) (StoredPolicy, error) {
	var sp StoredPolicy
	if err := json.Unmarshal(plain, &sp); err != nil {
		return StoredPolicy{}, err
	}
	if sp.Time.IsZero() {
		return StoredPolicy{}, errors.New("policy file has no time")
	}
	if p := bytes.TrimSpace(sp.Policy); len(p) == 0 || p[0] != '{' {
		return StoredPolicy{}, errors.New("policy file holds no policy object")
	}
	return sp, nil
}

// SetPolicy stores policy (a JSON object) and timezone as the repository's
// policy. It writes the new file first and then removes every policy file
// that existed before, readable or not: a crash in between leaves two
// files, and the newer one counts.
func (r *Repository) SetPolicy(ctx context.Context, policy json.RawMessage, timezone string) (StoredPolicy, error) {
	before, err := r.List(ctx, backend.PolicyFile)
	if err != nil {
		return StoredPolicy{}, err
	}
	sp := StoredPolicy{Time: r.opts.Now(), Policy: policy, Timezone: timezone}
	plain, err := json.Marshal(sp)
	if err != nil {
		return StoredPolicy{}, err
	}
	if _, err := DecodeStoredPolicy(plain); err != nil {
		return StoredPolicy{}, fmt.Errorf("setting policy: %w", err)
	}
	if sp.ID, err = r.SaveFile(ctx, backend.PolicyFile, plain); err != nil {
		return StoredPolicy{}, fmt.Errorf("setting policy: %w", err)
	}
	for _, id := range before {
		if err := r.removeIfPresent(ctx, backend.PolicyFile, id); err != nil {
			return sp, fmt.Errorf("policy set; removing the previous one: %w", err)
		}
	}
	return sp, nil
}

// LoadPolicy returns the repository's policy: of several policy files
// (a crash during SetPolicy) the newest by time. found is false when
// there is none. A damaged policy file is an error naming it, never
// skipped: forget must not fall back to another policy silently.
func (r *Repository) LoadPolicy(ctx context.Context) (sp StoredPolicy, found bool, err error) {
	policies, err := r.policies(ctx)
	if err != nil || len(policies) == 0 {
		return StoredPolicy{}, false, err
	}
	return policies[len(policies)-1], true, nil
}

// ResetPolicy removes every policy file, oldest first, so a crash leaves
// the newest policy in force rather than an older one. It returns how
// many it removed.
func (r *Repository) ResetPolicy(ctx context.Context) (int, error) {
	ids, err := r.List(ctx, backend.PolicyFile)
	if err != nil {
		return 0, err
	}
	var damaged []pack.ID
	var readable []StoredPolicy
	for _, id := range ids {
		sp, err := r.loadPolicy(ctx, id)
		switch {
		case errors.Is(err, ErrDamaged):
			damaged = append(damaged, id)
		case err != nil:
			return 0, err
		default:
			readable = append(readable, sp)
		}
	}
	sortPolicies(readable)
	order := damaged
	for _, sp := range readable {
		order = append(order, sp.ID)
	}
	for i, id := range order {
		if err := r.removeIfPresent(ctx, backend.PolicyFile, id); err != nil {
			return i, err
		}
	}
	return len(order), nil
}

// policies loads every policy file, oldest first.
func (r *Repository) policies(ctx context.Context) ([]StoredPolicy, error) {
	ids, err := r.List(ctx, backend.PolicyFile)
	if err != nil {
		return nil, err
	}
	var out []StoredPolicy
	for _, id := range ids {
		sp, err := r.loadPolicy(ctx, id)
		if errors.Is(err, backend.ErrNotExist) {
			continue // replaced while we listed
		}
		if err != nil {
			return nil, fmt.Errorf("%w; `strata policy set` or `strata policy reset` replaces it", err)
		}
		out = append(out, sp)
	}
	sortPolicies(out)
	return out, nil
}

func (r *Repository) loadPolicy(ctx context.Context, id pack.ID) (StoredPolicy, error) {
	plain, err := r.LoadFile(ctx, backend.PolicyFile, id)
	if err != nil {
		return StoredPolicy{}, err
	}
	sp, err := DecodeStoredPolicy(plain)
	if err != nil {
		return StoredPolicy{}, fmt.Errorf("policy file %s: %w: %v", id.Short(), ErrDamaged, err)
	}
	sp.ID = id
	return sp, nil
}

func sortPolicies(ps []StoredPolicy) {
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].Time.Equal(ps[j].Time) {
			return ps[i].Time.Before(ps[j].Time)
		}
		return ps[i].ID.String() < ps[j].ID.String()
	})
}

// removeIfPresent removes t/id; a file already gone is fine.
func (r *Repository) removeIfPresent(ctx context.Context, t backend.FileType, id pack.ID) error {
	h := backend.Handle{Type: t, Name: id.String()}
	if err := r.be.Remove(ctx, h); err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("removing %v: %w", h, err)
	}
	return nil
}
