package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/verify"
	"strata/workflow"
)

func cmdCheck(g *globals) *cli.Command {
	var (
		readData bool
		subset   string
		asJSON   bool
		lockWarn float64
	)
	return &cli.Command{
		Name:  "check",
		Usage: "verify the repository's structure and, optionally, every blob",
		Description: `Verifies every key, policy and protect file, that every index entry's
pack exists and its header agrees, and
that every tree and blob referenced by a snapshot is indexed. --read-data
also decrypts every blob and verifies its BLAKE3 ID (delta blobs: the
reconstructed plaintext); --read-data-subset n/m or P% reads part of the
packs. A damaged pack is reported with its blobs and the snapshots that
depend on them. A damaged or missing config is reported too (a copy of
it in a key file stands in). The repository's journal names a snapshot,
key, policy, protect or index file that was deleted. The report ends with
what to do (--json: "what_to_do"): strata repair config, strata repair
index, strata repair snapshots, strata repair journal, strata key remove,
strata key passwd, strata policy reset, strata unprotect --damaged, or
strata prune. Under object lock it notes files the snapshots need whose
retention runs out within --lock-warn-days (default: 7, or half the
repository's lock days when shorter; 0 turns it off), with strata
maintenance extend-locks as what to do.

` + checkExitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "read-data", Usage: "read and verify every blob", Destination: &readData},
			&cli.StringFlag{Name: "read-data-subset", Usage: "read and verify a subset of packs: `n/m` or P%", Destination: &subset},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &asJSON},
			&cli.Float64Flag{Name: "lock-warn-days", Usage: "under object lock, note files the snapshots need whose retention runs out within `N` days (0: do not look)", Value: -1, DefaultText: "7, or half the lock days", Destination: &lockWarn},
		},
		Action: func(c *cli.Context) error {
			if subset != "" {
				// A mistyped subset fails before the password is asked.
				if _, err := verify.ParseSubset(subset); err != nil {
					return err
				}
			}
			r, err := g.openRepo(c.Context)
			if err != nil {
				return err
			}
			var retentionWarning time.Duration // the default
			switch {
			case lockWarn == 0:
				retentionWarning = -1
			case lockWarn > 0:
				retentionWarning = time.Duration(lockWarn * float64(24*time.Hour))
			}
			crep, err := workflow.Check(c.Context, r, workflow.CheckRequest{
				ReadData: readData, Subset: subset, Lock: g.lockOptions(), Logger: g.logger(), RetentionWarning: retentionWarning,
				AuditAnchor: g.auditAnchor(r), TrailRead: g.env.checkTrailRead,
				Progress: func(p *verify.Progress) func() {
					bar := progress.Start(g.env.stderr, g.showProgress(), "check", func() (uint64, uint64, string) {
						status := fmt.Sprintf("%d/%d packs", p.PacksDone.Load(), p.PacksTotal.Load())
						if total := p.ChainBlobsTotal.Load(); total > 0 {
							status += fmt.Sprintf(", %d/%d delta chain blobs", p.ChainBlobsDone.Load(), total)
						}
						return uint64(p.BytesRead.Load()), 0, status
					})
					return bar.Stop
				},
			})
			if err != nil {
				return err
			}
			rep := crep.Report
			g.audit.result.Check = crep.AuditResult()
			if asJSON {
				if err := printJSON(g.env.stdout, checkJSON(rep)); err != nil {
					return err
				}
			} else {
				for _, f := range rep.Findings {
					fmt.Fprintf(g.env.stdout, "%v: %v\n", f.Severity(), f)
				}
				trees := counted(rep.Trees, "tree")
				if rep.Pages > 0 {
					trees += ", " + counted(rep.Pages, "page")
				}
				fmt.Fprintf(g.env.stdout, "checked %s, %s, %s, %s", counted(rep.Snapshots, "snapshot"), trees, counted(rep.Packs, "pack"), counted(rep.Blobs, "blob"))
				if rep.DataBytesRead > 0 {
					fmt.Fprintf(g.env.stdout, ", read %s of data", progress.Bytes(uint64(rep.DataBytesRead)))
				}
				fmt.Fprintln(g.env.stdout)
			}
			if !asJSON {
				if rep.OK() {
					fmt.Fprintln(g.env.stdout, "no errors were found")
				}
				printWhatToDo(g.env.stdout, rep.WhatToDo())
			}
			if !rep.OK() {
				return fmt.Errorf("%w: check found %s", errCheckFailed, counted(rep.Errors(), "error"))
			}
			return nil
		},
	}
}

// printWhatToDo prints the steps that fix what check found, numbered.
func printWhatToDo(w io.Writer, steps []verify.Step) {
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(w, "\nWhat to do:")
	for i, s := range steps {
		if s.Command == "" {
			fmt.Fprintf(w, "  %d. %s\n", i+1, s.Why)
			continue
		}
		fmt.Fprintf(w, "  %d. %s\n     %s\n", i+1, s.Command, s.Why)
	}
}

// checkReportJSON is the shape of `check --json`.
type checkReportJSON struct {
	OK                bool          `json:"ok"`
	Snapshots         int           `json:"snapshots"`
	Trees             int           `json:"trees"`
	Pages             int           `json:"pages"` // of tables' chunk lists
	Packs             int           `json:"packs"`
	Blobs             int           `json:"blobs"`
	PacksRead         int           `json:"packs_read"`
	DataBytesRead     int64         `json:"data_bytes_read"`
	UnreferencedPacks []string      `json:"unreferenced_packs"`
	Findings          []findingJSON `json:"findings"`
	// WhatToDo are the steps that fix the findings, in order.
	WhatToDo []verify.Step `json:"what_to_do"`
}

type findingJSON struct {
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Message  string `json:"message"`
	Detail   any    `json:"detail"`
}

func checkJSON(rep *verify.Report) checkReportJSON {
	out := checkReportJSON{
		OK: rep.OK(), Snapshots: rep.Snapshots, Trees: rep.Trees, Pages: rep.Pages, Packs: rep.Packs, Blobs: rep.Blobs,
		PacksRead: rep.PacksRead, DataBytesRead: rep.DataBytesRead,
		UnreferencedPacks: []string{}, Findings: []findingJSON{}, WhatToDo: []verify.Step{},
	}
	out.WhatToDo = append(out.WhatToDo, rep.WhatToDo()...)
	for _, id := range rep.UnreferencedPacks {
		out.UnreferencedPacks = append(out.UnreferencedPacks, id.String())
	}
	for _, f := range rep.Findings {
		kind := strings.TrimPrefix(fmt.Sprintf("%T", f), "*verify.")
		out.Findings = append(out.Findings, findingJSON{Severity: f.Severity().String(), Kind: kind, Message: f.Error(), Detail: f})
	}
	return out
}
