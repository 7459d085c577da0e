package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
)

// snapshotJSON is the documented shape of `snapshots --json`.
type snapshotJSON struct {
	ID       string   `json:"id"`
	ShortID  string   `json:"short_id"`
	Time     string   `json:"time"` // RFC 3339
	Host     string   `json:"host"`
	Username string   `json:"username,omitempty"`
	Tags     []string `json:"tags"`
	Tier     string   `json:"tier"`
	Source   string   `json:"source"`
	Paths    []string `json:"paths"`
	Tree     string   `json:"tree"`
	Parent   *string  `json:"parent,omitempty"`
	// Original: the snapshot this one replaced (tag) or was copied from
	// (copy), the first of a chain.
	Original *string      `json:"original,omitempty"`
	Summary  repo.Summary `json:"summary"`
	// Meta: extra facts, such as the command a guard snapshot protected
	// (secrets masked).
	Meta map[string]string `json:"meta,omitempty"`
	// Protected: an active protection keeps the snapshot from forget.
	Protected   bool             `json:"protected"`
	Protections []protectionJSON `json:"protections,omitempty"`
}

// protectionJSON is one active protection in `snapshots --json`.
type protectionJSON struct {
	ID     string `json:"id"`
	Time   string `json:"time"`            // RFC 3339
	Until  string `json:"until,omitempty"` // RFC 3339; none: no end
	Reason string `json:"reason"`
	Host   string `json:"host"`
}

func toSnapshotJSON(sn *repo.Snapshot) snapshotJSON {
	tags := sn.Tags
	if tags == nil {
		tags = []string{}
	}
	return snapshotJSON{
		ID: sn.ID.String(), ShortID: sn.ID.Short(), Time: sn.Time.Format(time.RFC3339Nano),
		Host: sn.Host, Username: sn.Username, Tags: tags, Tier: sn.Tier, Source: sn.Source,
		Paths: sn.Paths, Tree: sn.Tree.String(), Parent: parentString(sn), Original: originalString(sn), Summary: sn.Summary, Meta: sn.Meta,
	}
}

func cmdSnapshots(g *globals) *cli.Command {
	var (
		asJSON          bool
		host, tag, tier string
		source          string
	)
	return &cli.Command{
		Name:  "snapshots",
		Usage: "list snapshots",
		Description: `Lists snapshots, oldest first.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array", Destination: &asJSON},
			&cli.StringFlag{Name: "host", Usage: "only snapshots from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "tag", Usage: "only snapshots with `TAG`", Destination: &tag},
			&cli.StringFlag{Name: "tier", Usage: "only snapshots of `TIER`", Destination: &tier},
			&cli.StringFlag{Name: "source", Usage: "only snapshots of the database `DSN` (any spelling; a password is ignored), or of a recorded source such as files:/srv", Destination: &source},
		},
		Action: func(c *cli.Context) error {
			return g.withReader(c.Context, "snapshots", func(r *repo.Repository) error {
				sns, err := r.Snapshots(c.Context)
				if err != nil {
					return err
				}
				protections, err := r.Protections(c.Context)
				if err != nil {
					// Listing goes on; forget refuses until this is fixed.
					g.notice(err.Error())
				}
				active := map[pack.ID][]repo.Protection{}
				for _, p := range protections {
					if p.Active(r.Now()) {
						active[p.Snapshot] = append(active[p.Snapshot], p)
					}
				}
				var shown []*repo.Snapshot
				for _, sn := range sns {
					if (host == "" || sn.Host == host) && (tag == "" || sn.HasTag(tag)) && (tier == "" || sn.Tier == tier) && (source == "" || dbexport.MatchesSource(sn, source)) {
						shown = append(shown, sn)
					}
				}
				if asJSON {
					out := make([]snapshotJSON, 0, len(shown))
					for _, sn := range shown {
						sj := toSnapshotJSON(sn)
						for _, p := range active[sn.ID] {
							pj := protectionJSON{ID: p.ID.String(), Time: p.Time.Format(time.RFC3339), Reason: p.Reason, Host: p.Host}
							if !p.Until.IsZero() {
								pj.Until = p.Until.Format(time.RFC3339)
							}
							sj.Protected, sj.Protections = true, append(sj.Protections, pj)
						}
						out = append(out, sj)
					}
					return printJSON(g.env.stdout, out)
				}
				t := newTable(g.env.stdout, "ID", "Time", "Host", "Tier", "Tags", "Source", "Protected")
				for _, sn := range shown {
					t.row(sn.ID.Short(), showTime(sn.Time), sn.Host, sn.Tier, strings.Join(sn.Tags, ","), sn.Source, protectedUntil(active[sn.ID]))
				}
				if err := t.flush(); err != nil {
					return err
				}
				fmt.Fprintf(g.env.stdout, "%s\n", counted(len(shown), "snapshot"))
				return nil
			})
		},
	}
}

// protectedUntil is the Protected column: "" for none, "yes" when a
// protection has no end, else "until" the latest end.
func protectedUntil(ps []repo.Protection) string {
	var latest time.Time
	for _, p := range ps {
		if p.Until.IsZero() {
			return "yes"
		}
		if p.Until.After(latest) {
			latest = p.Until
		}
	}
	if latest.IsZero() {
		return ""
	}
	return "until " + showTime(latest)
}

func originalString(sn *repo.Snapshot) *string {
	if sn.Original == nil {
		return nil
	}
	s := sn.Original.String()
	return &s
}
