package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/audit"
	"strata/repo/backend"
	"strata/verify"
)

// auditedReaders are the commands that only read the repository and are
// recorded in its audit trail all the same: they restore from it (restore,
// dump, mount, verify drill), verify it (check), or remove locks (unlock).
// Every command that takes a lock to write is recorded too (withLockThen),
// as is init (docs/design.md, "The audit trail", "Which commands").
var auditedReaders = map[string]bool{
	"restore": true, "dump": true, "mount": true, "verify drill": true, "check": true, "unlock": true,
}

// auditTimeout bounds the write of an audit record after the command:
// the user is waiting for strata to exit.
const auditTimeout = 30 * time.Second

// auditRun is what the audit record of this command is made of, gathered
// while it runs (docs/design.md, "The audit trail").
type auditRun struct {
	start   time.Time
	command string           // the full name of the command that ran
	dryRun  bool             // --dry-run: changes nothing, not recorded
	repo    *repo.Repository // the repository the command opened (--repo)
	writes  bool             // it took a lock to write, or created the repository
	reads   []pack.ID        // snapshots it restored from
	source  string           // the source of the snapshot a drill restored
	result  audit.Result     // Check and Drill, set by those commands
}

// setAuditHooks wraps every command's action so that the audit record
// knows which command ran ("key add": the names from the top, which
// urfave/cli's FullName does not give a subcommand), and whether it was a
// dry run.
func setAuditHooks(g *globals, cmds []*cli.Command, parent ...string) {
	for _, c := range cmds {
		name := strings.Join(append(slices.Clone(parent), c.Name), " ")
		if action := c.Action; action != nil {
			c.Action = func(ctx *cli.Context) error {
				g.audit.command = name
				g.audit.dryRun = ctx.IsSet("dry-run") && ctx.Bool("dry-run")
				return action(ctx)
			}
		}
		setAuditHooks(g, c.Subcommands, append(slices.Clone(parent), c.Name)...)
	}
}

// opened notes the repository the command opened: the one whose audit
// trail records it. Its locks that name snapshots stay until the record
// is written (repo.KeepLocksUntilRecorded, releaseRecordedLocks).
func (a *auditRun) opened(r *repo.Repository) {
	if a.repo == nil {
		a.repo = r
		r.KeepLocksUntilRecorded()
		if !longRunning[a.command] {
			r.RecordsStaleLocks()
		}
	}
}

// longRunning are the commands that run until stopped: their one audit
// record, if any, is written when the process exits, too late to record
// the snapshots of the stale locks they would remove (and they open the
// repository again for every page), so they leave such locks to the
// next command (repo.RecordsStaleLocks).
var longRunning = map[string]bool{"serve": true, "daemon": true, "mount": true}

// restoredFrom notes a snapshot the command reads data of.
func (a *auditRun) restoredFrom(sn *repo.Snapshot) { a.reads = append(a.reads, sn.ID) }

// recordAudit appends the record of the command that just ended with err
// and exit code to the audit trail of the repository it opened, when the
// command is one that is recorded. A record that cannot be written is a
// warning on stderr and does not change the exit code: the command did
// what it did, and a failed backup must not be reported as an audit
// failure, nor a good one as failed. A reader on storage that refuses
// writes (read-only, full) gets a notice instead: it has no other way.
func (g *globals) recordAudit(ctx context.Context, err error, code int) {
	a := &g.audit
	if a.repo == nil || a.command == "" {
		return
	}
	stale := a.repo.StaleLockSnapshots()
	if len(stale) == 0 && (a.dryRun || !(a.writes || auditedReaders[a.command])) {
		return
	}
	rec := audit.NewRecord(a.command, g.args[1:], a.start, "strata "+version)
	rec.Result = a.result
	rec.SetResult(err, code)
	rec.AddSnapshots(a.repo.SnapshotsTouched()...)
	rec.AddSnapshots(a.reads...)
	rec.StaleLockSnapshots = stale[:min(len(stale), audit.MaxSnapshots)]
	rec.Source = a.source
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	name, werr := audit.New(a.repo.Backend(), a.repo.Key()).Append(wctx, rec)
	switch {
	case werr == nil:
		g.verbosef(1, "audit record %s/%s written\n", backend.AuditFile, name)
		g.advanceAuditAnchor(wctx, a.repo, rec)
	case !a.writes && (errors.Is(werr, backend.ErrReadOnly) || errors.Is(werr, backend.ErrFull)):
		g.notice(fmt.Sprintf("no audit record of this %s was written: %v", a.command, werr))
	default:
		fmt.Fprintf(g.env.stderr, "warning: the audit record of this %s could not be written: %v; "+
			"the command's result stands, and the repository's audit trail lacks it\n", a.command, werr)
	}
}

// releaseRecordedLocks removes the lock files that the repository the
// command opened kept for its audit record (auditRun.opened), once the
// record is written or could not be. A lock file that cannot be removed
// is stale once strata exits, and the next command removes it.
func (g *globals) releaseRecordedLocks(ctx context.Context) {
	if g.audit.repo == nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := g.audit.repo.ReleaseRecordedLocks(wctx); err != nil {
		g.notice(fmt.Sprintf("%v; the next command removes it as stale", err))
	}
}

// drillResult is a drill's result in its audit record: the restore's
// time and each table's restored rows, load time and verdict.
func drillResult(rep *verify.DrillReport) *audit.DrillResult {
	d := &audit.DrillResult{OK: rep.OK(), RestoreSeconds: rep.RestoreSeconds, Tables: []audit.DrillTable{}}
	for _, t := range rep.Tables {
		d.Tables = append(d.Tables, audit.DrillTable{Table: t.Table, Rows: t.RestoredRows, LoadSeconds: t.LoadSeconds, OK: len(t.Problems) == 0})
	}
	return d
}

// auditAnchorPath is the file that keeps this client's audit anchor of r
// (docs/design.md, "The audit trail", "Anchors"), in
// $XDG_STATE_HOME/strata/audit-anchors, else
// ~/.local/state/strata/audit-anchors; "" when neither variable is set.
func (g *globals) auditAnchorPath(r *repo.Repository) string {
	dir := g.env.getenv("XDG_STATE_HOME")
	if dir == "" {
		home := g.env.getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return audit.AnchorPath(filepath.Join(dir, "strata", "audit-anchors"), r.Config().ID, g.anchorLocation())
}

// anchorLocation is --repo as an absolute path (with or without
// "local:", from any working directory), or as given when another
// scheme's (s3:host/bucket, a URL).
func (g *globals) anchorLocation() string {
	loc := strings.TrimPrefix(g.repoPath, "local:")
	if scheme, _, ok := strings.Cut(loc, ":"); ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`) {
		return loc
	}
	if abs, err := filepath.Abs(loc); err == nil {
		return abs
	}
	return loc
}

// auditAnchor returns this client's audit anchor of r; nil when it keeps
// none. A damaged anchor file is a warning: it proves nothing.
func (g *globals) auditAnchor(r *repo.Repository) *audit.Anchor {
	path := g.auditAnchorPath(r)
	if path == "" {
		return nil
	}
	a, err := audit.LoadAnchor(path)
	if err != nil {
		fmt.Fprintf(g.env.stderr, "warning: %v\n", err)
	}
	return a
}

// advanceAuditAnchor keeps rec, just written to r's trail, as this
// client's anchor of r. One that cannot be kept is a warning.
func (g *globals) advanceAuditAnchor(ctx context.Context, r *repo.Repository, rec *audit.Record) {
	path := g.auditAnchorPath(r)
	if path == "" {
		return
	}
	if err := audit.New(r.Backend(), r.Key()).Advance(ctx, path, g.anchorLocation(), rec); err != nil {
		fmt.Fprintf(g.env.stderr, "warning: this client's audit anchor could not be kept: %v\n", err)
	}
}
