package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/prune"
	"strata/repo/retention"
)

// ForgetRequest is one forget: remove the snapshot files a retention
// policy does not keep, or the snapshots named (docs/design.md,
// "Retention policy and protections"). Their data stays until a prune.
type ForgetRequest struct {
	// Snapshots, when given, are the snapshots to remove (IDs, unique ID
	// prefixes, latest): all of them, or none when one is missing or
	// protected. No policy is applied then.
	Snapshots []string
	// Policy says which policy to apply without Snapshots.
	Policy PolicyChoice
	// GroupBy are the fields whose equal values make a group: host,
	// source, tags; empty: host and source.
	GroupBy []string
	// DryRun decides and reports without removing anything (under a
	// shared lock). Not with Prune.
	DryRun bool
	// Prune, when set, prunes after the removal under the same exclusive
	// lock (its DryRun and Lock are not used).
	Prune *PruneRequest
	// Lock says how to wait for the lock.
	Lock LockOptions
	// Decided, when set, is called once the policy's decisions are made,
	// before anything is removed (a CLI prints them there, ahead of the
	// removals' messages). Not called with Snapshots.
	Decided func(*ForgetReport)
	// Forgotten, when set, is called once the snapshots are removed,
	// before the prune.
	Forgotten func(*ForgetReport)
	// Logger receives one record per snapshot removed (slog.LevelInfo)
	// and prune's; nil discards them.
	Logger *slog.Logger
}

// ForgetReport is what a forget decided and did.
type ForgetReport struct {
	// Policy is the policy applied (Source PolicyNone: none, and nothing
	// was removed); zero with Snapshots.
	Policy ChosenPolicy
	DryRun bool
	// Groups are the policy's decisions, every reason listed.
	Groups []retention.Group
	// Total counts the snapshots decided about (with no policy: all).
	Total int
	// Removed are the snapshots removed (in a dry run: to remove), oldest
	// decision order; Kept counts the others, KeptProtected those of them
	// kept by a protection.
	Removed       []*repo.Snapshot
	Kept          int
	KeptProtected int
	// Locked are the snapshot files left because of their object lock;
	// they count as kept.
	Locked []prune.LockedFile
	// ProtectionsRemoved counts the expired protect files removed with
	// their snapshots (0 in a dry run).
	ProtectionsRemoved int
	// Prune is the prune's report, with a Prune request.
	Prune *PruneReport
}

// Forget removes what req asks under r's exclusive lock (a shared one for
// a dry run), taken as req.Lock says.
func Forget(ctx context.Context, r *repo.Repository, req ForgetRequest) (*ForgetReport, error) {
	if req.Prune != nil && req.DryRun {
		return nil, errors.New("forget: a dry run cannot prune: prune's plan cannot see the snapshots a dry run would remove")
	}
	if len(req.Snapshots) > 0 && (req.Policy.Rules != nil || req.Policy.Safety != nil) {
		return nil, fmt.Errorf("forget: give snapshots to remove or a policy, not both (got %q)", req.Snapshots)
	}
	// Expired protect files go with the snapshots they name; an
	// append-only credential is refused before any of them is removed.
	removes := []backend.FileType{backend.SnapshotFile, backend.ProtectFile}
	if req.Prune != nil {
		removes = append(removes, backend.PackFile, backend.IndexFile)
	}
	lock := LockRequest{LockOptions: req.Lock, Command: "forget", Exclusive: !req.DryRun, Index: NoIndex, Logger: req.Logger, Removes: removes}
	rep := &ForgetReport{DryRun: req.DryRun}
	err := WithLock(ctx, r, lock, func(ctx context.Context, r *repo.Repository) error {
		f := forget{r: r, req: req, rep: rep, log: logger(req.Logger)}
		if len(req.Snapshots) > 0 {
			return f.snapshots(ctx)
		}
		return f.policy(ctx)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// forget is one forget under its lock.
type forget struct {
	r   *repo.Repository
	req ForgetRequest
	rep *ForgetReport
	log *slog.Logger
}

func (f forget) policy(ctx context.Context) error {
	ch, err := ChoosePolicy(ctx, f.r, f.req.Policy)
	if err != nil {
		return err
	}
	f.rep.Policy = ch
	if ch.Source == PolicyNone {
		sns, err := f.r.Snapshots(ctx)
		if err != nil {
			return err
		}
		f.rep.Total, f.rep.Kept = len(sns), len(sns)
		return nil
	}
	protected, protections, err := ActiveProtections(ctx, f.r, f.r.Now(), ch.Location)
	if err != nil {
		return fmt.Errorf("forget refuses to run: %w", err)
	}
	sns, err := f.r.Snapshots(ctx)
	if err != nil {
		return err
	}
	groupBy := f.req.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"host", "source"}
	}
	groups, err := retention.Apply(sns, ch.Rules, retention.Options{
		GroupBy: groupBy, Location: ch.Location, Protected: protected,
		SourceKey: dbexport.SourceName, Now: f.r.Now(),
	})
	if err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	f.rep.Groups = groups
	var remove []*repo.Snapshot
	for _, gr := range groups {
		for _, d := range gr.Decisions {
			f.rep.Total++
			_, isProtected := protected[d.Snapshot.ID]
			switch {
			case d.Keep:
				f.rep.Kept++
				if isProtected {
					f.rep.KeptProtected++
				}
			case isProtected:
				// Apply always keeps protected snapshots; refuse rather
				// than trust that here.
				return fmt.Errorf("forget: snapshot %s is protected but was not kept; nothing removed", d.Snapshot.ID.Short())
			default:
				remove = append(remove, d.Snapshot)
			}
		}
	}
	f.rep.Removed = remove
	if f.req.Decided != nil {
		f.req.Decided(f.rep)
	}
	if f.req.DryRun {
		return nil
	}
	removed, locked, err := f.remove(ctx, remove)
	f.rep.Removed, f.rep.Locked = removed, locked
	f.rep.Kept += len(locked)
	if err != nil {
		return err
	}
	if f.rep.ProtectionsRemoved, err = f.removeProtections(ctx, removed, protections); err != nil {
		return err
	}
	return f.pruneAfter(ctx)
}

// pruneAfter calls Forgotten and runs the requested prune.
func (f forget) pruneAfter(ctx context.Context) error {
	if f.req.Forgotten != nil {
		f.req.Forgotten(f.rep)
	}
	if f.req.Prune == nil {
		return nil
	}
	preq := *f.req.Prune
	preq.DryRun = false
	if preq.Logger == nil {
		preq.Logger = f.req.Logger
	}
	prep, err := PruneLocked(ctx, f.r, preq)
	if err != nil {
		return err
	}
	f.rep.Prune = &prep
	return nil
}

// remove deletes the snapshot files, one by one, and returns those it
// removed; the first failure stops it, and the message says how many
// were removed. A snapshot file under object lock is left (the snapshot
// stays, so prune keeps its data) and returned as locked.
func (f forget) remove(ctx context.Context, sns []*repo.Snapshot) (removed []*repo.Snapshot, locked []prune.LockedFile, err error) {
	hs := make([]backend.Handle, 0, len(sns))
	for _, sn := range sns {
		hs = append(hs, backend.Handle{Type: backend.SnapshotFile, Name: sn.ID.String()})
	}
	states, err := f.r.LockedFiles(ctx, hs)
	if err != nil {
		return nil, nil, fmt.Errorf("forget removed no snapshot: asking for the object lock of the snapshot files: %w", err)
	}
	lockedOne := func(sn *repo.Snapshot, st backend.LockState) {
		locked = append(locked, prune.LockedFile{File: "snapshots/" + sn.ID.String(), Size: -1, Mode: strings.ToLower(string(st.Mode)), Until: st.Until, LegalHold: st.LegalHold})
		f.log.Info(fmt.Sprintf("snapshot %s is under object lock (%v): not removed", sn.ID.Short(), st))
	}
	var removable []*repo.Snapshot
	for i, sn := range sns {
		if st, ok := states[hs[i]]; ok {
			lockedOne(sn, st)
			continue
		}
		removable = append(removable, sn)
	}
	// One journal file records every removal ahead of them.
	gone := make([]repo.JournalKey, 0, len(removable))
	for _, sn := range removable {
		gone = append(gone, repo.JournalKey{Kind: backend.SnapshotFile, ID: sn.ID})
	}
	if err := f.r.RecordRemovals(ctx, gone); err != nil {
		return nil, locked, fmt.Errorf("forget removed no snapshot: %w", err)
	}
	for _, sn := range removable {
		err := f.r.RemoveSnapshot(ctx, sn.ID)
		var le *backend.LockedError
		if errors.As(err, &le) {
			lockedOne(sn, le.State) // locked since it asked
			continue
		}
		if err != nil {
			return removed, locked, fmt.Errorf("forget removed %d of %s, then: %w", len(removed), progress.Counted(len(sns), "snapshot"), err)
		}
		removed = append(removed, sn)
		f.log.Info(fmt.Sprintf("removed snapshot %s", sn.ID.Short()))
	}
	return removed, locked, nil
}

// removeProtections deletes the protect files of removed snapshots (only
// expired protections can name one) and expired ones whose snapshot is
// gone already (a crash between the two steps of an earlier forget).
func (f forget) removeProtections(ctx context.Context, removed []*repo.Snapshot, protections []repo.Protection) (int, error) {
	gone := map[pack.ID]bool{}
	for _, sn := range removed {
		gone[sn.ID] = true
	}
	exists := map[pack.ID]bool{}
	for _, gr := range f.rep.Groups {
		for _, d := range gr.Decisions {
			if !gone[d.Snapshot.ID] {
				exists[d.Snapshot.ID] = true
			}
		}
	}
	now := f.r.Now()
	n := 0
	for _, p := range protections {
		if exists[p.Snapshot] || p.Active(now) {
			continue
		}
		if err := f.r.RemoveProtection(ctx, p); err != nil {
			return n, fmt.Errorf("forget removed the snapshots, but removing expired protect file %s failed: %w", p.ID.Short(), err)
		}
		n++
	}
	return n, nil
}

// snapshots removes the snapshots req names, as restic's `forget ID...`:
// all of them or, when one cannot be found or is protected, none.
func (f forget) snapshots(ctx context.Context) error {
	protected, protections, err := ActiveProtections(ctx, f.r, f.r.Now(), time.Local)
	if err != nil {
		return fmt.Errorf("forget refuses to run: %w", err)
	}
	var remove []*repo.Snapshot
	seen := map[pack.ID]bool{}
	for _, ref := range f.req.Snapshots {
		sn, err := f.r.FindSnapshot(ctx, ref)
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
	f.rep.Total = len(remove)
	for i, sn := range remove {
		if f.req.DryRun {
			f.rep.Removed = append(f.rep.Removed, sn)
			f.log.Info(fmt.Sprintf("would remove snapshot %s of %s", sn.ID.Short(), sn.Time.In(time.Local).Format(TimeLayout)))
			continue
		}
		if err := f.r.RemoveSnapshot(ctx, sn.ID); err != nil {
			return fmt.Errorf("forget removed %d of %d snapshots, then: %w", i, len(remove), err)
		}
		f.rep.Removed = append(f.rep.Removed, sn)
		f.log.Info(fmt.Sprintf("removed snapshot %s of %s", sn.ID.Short(), sn.Time.In(time.Local).Format(TimeLayout)))
	}
	if f.req.DryRun {
		return nil
	}
	// Only expired protections can name a removed snapshot.
	for _, p := range protections {
		if !seen[p.Snapshot] {
			continue
		}
		if err := f.r.RemoveProtection(ctx, p); err != nil {
			return fmt.Errorf("forget removed the snapshots, but removing expired protect file %s failed: %w", p.ID.Short(), err)
		}
		f.rep.ProtectionsRemoved++
	}
	return f.pruneAfter(ctx)
}
