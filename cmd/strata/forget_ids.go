package main

import (
	"fmt"

	"strata/repo/retention"
	"strata/workflow"
)

// forgetSnapshotsJSON is the documented shape of `forget SNAPSHOT...
// --json`.
type forgetSnapshotsJSON struct {
	DryRun bool     `json:"dry_run"`
	Remove []string `json:"remove"` // snapshot IDs, removed or (dry run) to remove
	// ProtectionsRemoved counts expired protect files removed with their
	// snapshots; always 0 in a dry run.
	ProtectionsRemoved int              `json:"protections_removed"`
	Prune              *pruneReportJSON `json:"prune,omitempty"`
}

// printSnapshots prints the report of `forget SNAPSHOT...`.
func (f forgetPrinter) printSnapshots(rep *workflow.ForgetReport) error {
	if f.asJSON {
		out := forgetSnapshotsJSON{DryRun: rep.DryRun, Remove: []string{}, ProtectionsRemoved: rep.ProtectionsRemoved}
		for _, sn := range rep.Removed {
			out.Remove = append(out.Remove, sn.ID.String())
		}
		if rep.Prune != nil {
			p := pruneJSON(rep.Prune.Report)
			out.Prune = &p
		}
		return printJSON(f.g.env.stdout, out)
	}
	if rep.Prune != nil {
		return printPrune(f.g, *rep.Prune, f.pf)
	}
	return nil
}

// snapshotsForgotten prints, once `forget SNAPSHOT...` removed them,
// where their data is (and the heading of prune's report).
func (f forgetPrinter) snapshotsForgotten(rep *workflow.ForgetReport) {
	if f.prune {
		fmt.Fprintln(f.g.env.stdout, "\nprune:")
		return
	}
	fmt.Fprintln(f.g.env.stdout, "their data stays in the repository until prune")
}

// printWithoutPolicy prints forget given no rule and no stored policy:
// as restic, it removed nothing, and says how to give a policy.
func (f forgetPrinter) printWithoutPolicy(rep *workflow.ForgetReport) error {
	ch := rep.Policy
	if f.asJSON {
		return printJSON(f.g.env.stdout, forgetJSON{
			PolicySource: ch.Source, PolicyFlags: ch.Rules.String(), Timezone: ch.Location.String(),
			DryRun: rep.DryRun, Groups: []forgetGroupJSON{}, Keep: rep.Total,
		})
	}
	fmt.Fprintf(f.g.env.stdout, "no policy: forget removes nothing without --keep-* flags or a policy stored with strata policy set; "+
		"%d snapshots kept. To start from a common policy: strata policy set %s\n", rep.Total, retention.DefaultPolicy())
	return nil
}
