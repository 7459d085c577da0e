package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/backend"
)

func cmdRepairJournal(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "journal",
		Usage: "write the journal anew from the files the repository holds, recording every loss",
		Description: `The journal records which snapshot, key, policy, protect and index files the
repository holds, so that check reports one that was deleted. This command
writes one base file recording exactly the files stored now, then removes
every other journal file, damaged ones too. Files check reports missing are
recorded as gone: restore them from a copy of the repository first if there
is one (a deleted snapshot cannot be brought back any other way), since
after this check no longer reports them. It also starts the journal of a
repository made before strata kept one, and mends a damaged or deleted
journal file.

` + exitCodesHelp,
		Action: func(c *cli.Context) error {
			return g.withLockNoIndex(c.Context, true, "repair journal", func(r *repo.Repository) error {
				res, err := r.CompactJournal(c.Context, repo.CompactOptions{Repair: true, AcceptLoss: repo.JournalKinds})
				if err != nil {
					return err
				}
				w := g.env.stdout
				for _, k := range res.Lost {
					fmt.Fprintf(w, "%s is missing: recorded as lost\n", journalKeyText(k))
				}
				if n := len(res.Adopted); n > 0 {
					fmt.Fprintf(w, "%s stored but not recorded: recorded\n", counted(n, "file"))
				}
				fmt.Fprintf(w, "journal written anew as %s (%d older journal files removed)\n", res.Base[:16], res.Replaced)
				return nil
			})
		},
	}
}

// journalKeyText names a recorded file as a user reads it: its kind and
// its path in the repository.
func journalKeyText(k repo.JournalKey) string {
	kind := map[backend.FileType]string{
		backend.SnapshotFile: "snapshot file", backend.KeyFile: "key file", backend.PolicyFile: "policy file",
		backend.ProtectFile: "protect file", backend.IndexFile: "index file",
	}[k.Kind]
	return fmt.Sprintf("%s %s/%s", kind, k.Kind, k.ID)
}
