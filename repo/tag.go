package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"strata/pack"
	"strata/repo/backend"
)

// TagChange says how strata tag changes a snapshot's tags: Set replaces
// them all (when SetGiven), then Remove and Add apply.
type TagChange struct {
	Set      []string
	SetGiven bool // Set applies, even empty (remove every tag)
	Add      []string
	Remove   []string
}

// apply returns the new tags, sorted, each once.
func (c TagChange) apply(tags []string) []string {
	out := slices.Clone(tags)
	if c.SetGiven {
		out = slices.Clone(c.Set)
	}
	out = slices.DeleteFunc(out, func(t string) bool { return slices.Contains(c.Remove, t) })
	out = append(out, c.Add...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Retag gives sn new tags. Snapshot files are write-once, so it writes a
// new snapshot with the new tags and Original set, copies the protections
// of sn to it, removes sn's protect files and then sn (docs/design.md,
// "Snapshots"): a crash leaves sn, the new snapshot or both, never
// neither. It returns the new snapshot, or sn when the tags do not change.
// The caller holds a lock that excludes forget and prune.
func (r *Repository) Retag(ctx context.Context, sn *Snapshot, c TagChange) (*Snapshot, error) {
	tags := c.apply(sn.Tags)
	old := slices.Clone(sn.Tags)
	slices.Sort(old)
	if slices.Equal(tags, slices.Compact(old)) {
		return sn, nil
	}
	nsn := *sn
	nsn.Tags = tags
	nsn.ID = pack.ID{}
	original := sn.ID
	if sn.Original != nil {
		original = *sn.Original
	}
	nsn.Original = &original
	if err := r.SaveSnapshot(ctx, &nsn); err != nil {
		return nil, fmt.Errorf("retagging snapshot %s: %w", sn.ID.Short(), err)
	}
	ps, err := r.Protections(ctx)
	if err != nil {
		return nil, fmt.Errorf("retagging snapshot %s: wrote %s, kept the old one: %w", sn.ID.Short(), nsn.ID.Short(), err)
	}
	var moved []Protection
	for _, p := range ps {
		if p.Snapshot != sn.ID {
			continue
		}
		np := p
		np.Snapshot = nsn.ID
		plain, err := json.Marshal(np)
		if err != nil {
			return nil, err
		}
		if _, err := r.SaveFile(ctx, backend.ProtectFile, plain); err != nil {
			return nil, fmt.Errorf("retagging snapshot %s: copying protection %s: %w (both snapshots are kept)", sn.ID.Short(), p.ID.Short(), err)
		}
		moved = append(moved, p)
	}
	for _, p := range moved {
		if err := r.RemoveProtection(ctx, p); err != nil {
			return nil, fmt.Errorf("retagging snapshot %s: %w (both snapshots are kept)", sn.ID.Short(), err)
		}
	}
	if err := r.RemoveSnapshot(ctx, sn.ID); err != nil {
		return nil, fmt.Errorf("retagging snapshot %s: wrote %s, could not remove the old one: %w", sn.ID.Short(), nsn.ID.Short(), err)
	}
	return &nsn, nil
}
