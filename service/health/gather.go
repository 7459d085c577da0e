package health

import (
	"context"
	"fmt"
	"time"

	"strata/dbexport"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/retention"
)

// Results are where check and drill results are recorded.
type Results interface {
	// LastCheck is the newest recorded check, nil when there is none.
	LastCheck(ctx context.Context) (*CheckRun, error)
	// Drills are the newest recorded drill of each source; sources maps a
	// snapshot ID (full, as recorded) to its source name.
	Drills(ctx context.Context, sources map[string]string) ([]DrillRun, error)
}

// GatherOptions say where Gather looks.
type GatherOptions struct {
	// QuotaBytes, when above 0, is the space the repository may use: its
	// stored bytes are judged against it. Otherwise the filesystem of
	// LocalPath (a local repository's folder) is judged, and without one
	// (a repository in a bucket) the storage is not judged.
	QuotaBytes int64
	LocalPath  string
	// Policy, when not nil, is the retention policy in force (the
	// configuration's) and Location its zone; else the repository's
	// stored policy is read.
	Policy   *retention.Policy
	Location *time.Location
	// Results are where check and drill results are read; nil means none
	// are known.
	Results Results
}

// Gathered are the inputs Gather read, with the zone of the policy.
type Gathered struct {
	Inputs
	Location *time.Location
}

// Gather reads what Evaluate needs from r: its snapshots (skipping
// damaged ones, which check reports), its retention policy, its storage
// use, and the recorded check and drill results.
func Gather(ctx context.Context, r *repo.Repository, o GatherOptions) (*Gathered, error) {
	g := &Gathered{Location: o.Location}
	r.SkipDamagedSnapshots()
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	sources := map[string]string{}
	for _, sn := range sns {
		src := dbexport.SourceName(sn)
		sources[sn.ID.String()] = src
		if isSafety(sn) {
			// Taken by restore --replace or guard, not on a schedule: a
			// recovery point, not part of a series.
			g.Snapshots = append(g.Snapshots, Snapshot{ID: sn.ID.Short(), Time: sn.Time, Source: src, Tier: safetyTier})
			continue
		}
		g.Snapshots = append(g.Snapshots, Snapshot{ID: sn.ID.Short(), Time: sn.Time, Source: src, Tier: sn.Tier})
	}
	if o.Policy != nil {
		g.Policy = o.Policy
	} else if err := g.readPolicy(ctx, r); err != nil {
		return nil, err
	}
	if g.Location == nil {
		// As retention's buckets without a zone: the local time.
		g.Location = time.Local
	}
	if err := g.readUsage(ctx, r, o.QuotaBytes, o.LocalPath); err != nil {
		return nil, err
	}
	if o.Results != nil {
		if g.LastCheck, err = o.Results.LastCheck(ctx); err != nil {
			return nil, fmt.Errorf("reading the last check's result: %w", err)
		}
		if g.Drills, err = o.Results.Drills(ctx, sources); err != nil {
			return nil, fmt.Errorf("reading the last drills' results: %w", err)
		}
	}
	return g, nil
}

// safetyTier marks safety snapshots, which count for the RPO only.
const safetyTier = "\x00safety"

func isSafety(sn *repo.Snapshot) bool {
	return sn.HasTag(retention.TagPreRestore) || sn.HasTag(retention.TagPreOp)
}

func (g *Gathered) readPolicy(ctx context.Context, r *repo.Repository) error {
	sp, found, err := r.LoadPolicy(ctx)
	if err != nil {
		return fmt.Errorf("reading the retention policy: %w", err)
	}
	if !found {
		return nil
	}
	p, err := retention.DecodePolicy(sp.Policy)
	if err != nil {
		return fmt.Errorf("policy file %s: %w", sp.ID.Short(), err)
	}
	g.Policy = &p
	if g.Location == nil && sp.Timezone != "" {
		if loc, err := time.LoadLocation(sp.Timezone); err == nil {
			g.Location = loc
		}
	}
	return nil
}

// readUsage measures the storage: the stored bytes of every file but the
// locks, and
// either the quota or the filesystem of a local repository.
func (g *Gathered) readUsage(ctx context.Context, r *repo.Repository, quota int64, dir string) error {
	stored, err := backend.StoredBytes(ctx, r.Backend())
	if err != nil {
		return err
	}
	if quota > 0 {
		g.Usage = &Usage{Method: "quota", UsedBytes: stored, TotalBytes: quota, StoredBytes: stored}
		return nil
	}
	if dir == "" {
		g.Notes = append(g.Notes, "storage: the repository is not on a local filesystem and no quota is given (--quota, or health: quota_bytes in the configuration), so its use is not judged")
		return nil
	}
	used, total, err := filesystemUsage(dir)
	if err != nil {
		g.Notes = append(g.Notes, fmt.Sprintf("storage: %v", err))
		return nil
	}
	g.Usage = &Usage{Method: "filesystem", UsedBytes: used, TotalBytes: total, StoredBytes: stored}
	return nil
}
