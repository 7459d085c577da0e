package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/retention"
)

// forgetSnapshotsJSON is the documented shape of `forget SNAPSHOT...
// --json`.
type forgetSnapshotsJSON struct {
	DryRun bool     `json:"dry_run"`
	Remove []string `json:"remove"` // snapshot IDs, removed or (dry run) to remove
	// ProtectionsRemoved counts expired protect files removed with their
	// snapshots; always 0 in a dry run.
	ProtectionsRemoved int             `json:"protections_removed"`
	Prune              json.RawMessage `json:"prune,omitempty"`
}

// forgetSnapshots removes the snapshots refs name, as restic's `forget
// ID...`: all of them or, when one cannot be found or is protected, none.
func forgetSnapshots(c *cli.Context, g *globals, refs []string, dryRun, asJSON bool, pf *pruneFlags) error {
	return g.withLockNoIndex(c.Context, !dryRun, "forget", func(r *repo.Repository) error {
		protected, protections, err := activeProtections(c.Context, r, r.Now(), time.Local)
		if err != nil {
			return fmt.Errorf("forget refuses to run: %w", err)
		}
		var remove []*repo.Snapshot
		seen := map[pack.ID]bool{}
		for _, ref := range refs {
			sn, err := r.FindSnapshot(c.Context, ref)
			if err != nil {
				return fmt.Errorf("forget %s: %w; nothing removed", ref, err)
			}
			if desc, ok := protected[sn.ID]; ok {
				return fmt.Errorf("snapshot %s is protected (%s); nothing removed (strata unprotect %s lifts the protection)", sn.ID.Short(), desc, sn.ID.Short())
			}
			if !seen[sn.ID] {
				seen[sn.ID] = true
				remove = append(remove, sn)
			}
		}
		out := forgetSnapshotsJSON{DryRun: dryRun, Remove: []string{}}
		for i, sn := range remove {
			out.Remove = append(out.Remove, sn.ID.String())
			if dryRun {
				g.printf("would remove snapshot %s of %s\n", sn.ID.Short(), showTime(sn.Time))
				continue
			}
			if err := r.RemoveSnapshot(c.Context, sn.ID); err != nil {
				return fmt.Errorf("forget removed %d of %d snapshots, then: %w", i, len(remove), err)
			}
			g.printf("removed snapshot %s of %s\n", sn.ID.Short(), showTime(sn.Time))
		}
		if !dryRun {
			// Only expired protections can name a removed snapshot.
			for _, p := range protections {
				if !seen[p.Snapshot] {
					continue
				}
				if err := r.RemoveProtection(c.Context, p); err != nil {
					return fmt.Errorf("forget removed the snapshots, but removing expired protect file %s failed: %w", p.ID.Short(), err)
				}
				out.ProtectionsRemoved++
			}
		}
		f := forgetRun{g: g, r: r, prune: pf}
		if asJSON {
			if pf != nil {
				if out.Prune, err = f.pruneJSON(c); err != nil {
					return err
				}
			}
			return printJSON(g.env.stdout, out)
		}
		if !dryRun && pf == nil {
			fmt.Fprintln(g.env.stdout, "their data stays in the repository until prune")
		}
		if pf != nil {
			fmt.Fprintln(g.env.stdout, "\nprune:")
			return runPrune(c, g, r, pf)
		}
		return nil
	})
}

// forgetWithoutPolicy is forget given no rule and no stored policy: as
// restic, it removes nothing, and says how to give a policy.
func forgetWithoutPolicy(c *cli.Context, g *globals, r *repo.Repository, ch chosenPolicy, asJSON bool) error {
	sns, err := r.Snapshots(c.Context)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(g.env.stdout, forgetJSON{
			PolicySource: ch.source, PolicyFlags: ch.policy.String(), Timezone: ch.loc.String(),
			DryRun: c.Bool("dry-run"), Groups: []forgetGroupJSON{}, Keep: len(sns),
		})
	}
	fmt.Fprintf(g.env.stdout, "no policy: forget removes nothing without --keep-* flags or a policy stored with strata policy set; "+
		"%d snapshots kept. To start from a common policy: strata policy set %s\n", len(sns), retention.DefaultPolicy())
	return nil
}
