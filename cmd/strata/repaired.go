package main

import (
	"fmt"

	"strata/repo"
	"strata/repo/repair"
)

// repairedWarningJSON is the --json form of the warning that a snapshot
// lost data: one line on stderr, beside the exit_error line's place.
type repairedWarningJSON struct {
	MessageType  string `json:"message_type"` // "warning"
	SnapshotID   string `json:"snapshot_id"`
	RepairedFrom string `json:"repaired_from,omitempty"`
	Lost         string `json:"lost"` // the snapshot's meta "lost"
	Message      string `json:"message"`
}

// warnRepaired says, on stderr even with --quiet, that snapshot sn was
// made by `repair snapshots` after data was lost, and what its meta
// "lost" names: what ls, dump and restore give of it is not all that was
// backed up (docs/design.md, "repair snapshots"). It says nothing of a
// snapshot that lost nothing.
func (g *globals) warnRepaired(sn *repo.Snapshot, asJSON bool) {
	lost := sn.Meta[repair.MetaLost]
	if lost == "" {
		return
	}
	msg := fmt.Sprintf("snapshot %s was made by repair snapshots after data was lost, and holds less than was backed up: %s",
		sn.ID.Short(), lost)
	if asJSON {
		_ = jsonLine(g.env.stderr, repairedWarningJSON{
			MessageType: "warning", SnapshotID: sn.ID.String(), RepairedFrom: sn.Meta[repair.MetaRepairedFrom],
			Lost: lost, Message: msg,
		})
		return
	}
	fmt.Fprintf(g.env.stderr, "warning: %s\n", msg)
}
