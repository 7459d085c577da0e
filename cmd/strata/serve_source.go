package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"strata/dbexport"
	"strata/repo"
	"strata/repo/retention"
	"strata/service/config"
	"strata/service/dashboard"
	"strata/service/health"
	"strata/service/metrics"
	"strata/service/state"
	"strata/workflow"
)

// repoSource reads the dashboard's pages from the repository of --repo,
// opening it for each page under a shared lock, as the commands that
// show the same do (health, stats --growth, forget --dry-run). One page
// reads at a time: the globals (stderr, the lock's stop) are one
// command's.
type repoSource struct {
	mu sync.Mutex
	g  *globals
	// stateDir is the daemon's state folder, when known: the first due
	// times of jobs without a snapshot yet (pending) come from it.
	stateDir string
	// store is the daemon's own (strata daemon): whether its changes of
	// the folder fail is judged too.
	store *state.Store
	// cfg is the daemon's strata.yaml as last read (setConfig, at
	// SIGHUP); nil: --config's. Guarded by mu.
	cfg *config.Config
}

// setConfig makes the pages (health, the snapshots' retention) judge by
// cfg from now on: the daemon read its strata.yaml again.
func (s *repoSource) setConfig(cfg *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
}

// config is the configuration the pages judge by. s.mu is held.
func (s *repoSource) config() *config.Config {
	if s.cfg != nil {
		return s.cfg
	}
	return s.g.cfg
}

// Health judges the repository as `strata health` does: with --config,
// by its jobs, limits and thresholds.
func (s *repoSource) Health(ctx context.Context) (*health.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The limits of --config when there is one, as strata health's.
	cfg := s.config()
	opts, gopts, err := s.g.healthOptionsOf(cfg)
	if err != nil {
		return nil, err
	}
	st := healthState{notes: firstDueTimes(s.stateDir, &opts)}
	st.notes = append(st.notes, lockWaitNotes(s.stateDir, cfg)...)
	if s.store != nil {
		st.folder = &health.StateFolder{Dir: s.store.Dir()}
		if since, err := s.store.Failing(); err != nil {
			st.folder.Error, st.folder.Since = err.Error(), since
		}
		st.notes = append(st.notes, setAsideFiles(st.folder)...)
	}
	return s.g.health(ctx, gopts, opts, st)
}

// Growth counts what `stats --growth` counts, and each snapshot's raw
// bytes beside.
func (s *repoSource) Growth(ctx context.Context) ([]dashboard.GrowthPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pts []dashboard.GrowthPoint
	err := s.g.withReader(ctx, "serve", func(r *repo.Repository) error {
		sns, err := r.Snapshots(ctx)
		if err != nil {
			return err
		}
		growth, err := workflow.SnapshotGrowth(ctx, r, sns)
		if err != nil {
			return err
		}
		for i, sn := range sns {
			pts = append(pts, dashboard.GrowthPoint{Time: sn.Time, Tier: sn.Tier, AddedBytes: growth[i].AddedBytes, RawBytes: growth[i].RawBytes})
		}
		return nil
	})
	return pts, err
}

// Snapshots decides as `forget --dry-run` without flags: with the
// config's retention (its zone and grouping), else the stored policy and
// the default grouping (host, source).
func (s *repoSource) Snapshots(ctx context.Context) (*dashboard.SnapshotList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &dashboard.SnapshotList{}
	err := s.g.withLockNoIndex(ctx, false, "serve", func(r *repo.Repository) error {
		r.SkipDamagedSnapshots()
		// As forget --dry-run without flags: strata.yaml's retention, else
		// the stored policy.
		cfg := s.config()
		p, cfgRetention, fromConfig, err := configPolicyOf(cfg, retention.Policy{}, false)
		if err != nil {
			return err
		}
		choice, groupBy := workflow.PolicyChoice{}, []string{"host", "source"}
		if fromConfig {
			choice = workflow.PolicyChoice{Rules: &p, Source: workflow.PolicyFromConfig, From: cfg.File,
				Timezone: cfgRetention.Timezone, TimezoneFrom: cfg.File}
			if cfgRetention.GroupBy != "" {
				groupBy = strings.Split(cfgRetention.GroupBy, ",")
			}
		}
		ch, err := workflow.ChoosePolicy(ctx, r, choice)
		if err != nil {
			return err
		}
		now := r.Now()
		protected, protections, err := workflow.ActiveProtections(ctx, r, now, ch.Location)
		if err != nil {
			return err
		}
		sns, err := r.Snapshots(ctx)
		if err != nil {
			return err
		}
		decided := map[string]retention.Decision{}
		if ch.Source != workflow.PolicyNone {
			out.Policy = ch.Rules.String()
			groups, err := retention.Apply(sns, ch.Rules, retention.Options{
				GroupBy: groupBy, Location: ch.Location, Protected: protected,
				SourceKey: dbexport.SourceName, Now: now,
			})
			if err != nil {
				return err
			}
			for _, gr := range groups {
				for _, d := range gr.Decisions {
					decided[d.Snapshot.ID.String()] = d
				}
			}
		}
		for i := len(sns) - 1; i >= 0; i-- {
			sn := sns[i]
			row := dashboard.Snapshot{ID: sn.ID.String(), ShortID: sn.ID.Short(), Time: sn.Time, Host: sn.Host,
				Source: dbexport.SourceName(sn), Tier: sn.Tier, Tags: sn.Tags, Keep: true}
			if d, ok := decided[row.ID]; ok {
				row.Keep, row.Reasons = d.Keep, d.Reasons
			}
			forever := false
			for _, p := range protections {
				if p.Snapshot == sn.ID && p.Active(now) {
					row.Protected = true
					forever = forever || p.Until.IsZero()
					if p.Until.After(row.ProtectedUntil) {
						row.ProtectedUntil = p.Until
					}
					if p.Reason != "" && !slices.Contains(strings.Split(row.ProtectReason, "; "), p.Reason) {
						row.ProtectReason = strings.TrimPrefix(row.ProtectReason+"; "+p.Reason, "; ")
					}
				}
			}
			if forever {
				row.ProtectedUntil = time.Time{}
			}
			out.Snapshots = append(out.Snapshots, row)
		}
		return nil
	})
	return out, err
}

// metricsHandler serves the repository's metrics, read at each scrape:
// its snapshots per tier, the newest of each, its size and locks.
func (s *repoSource) metricsHandler(set *metrics.Set) http.Handler {
	h := set.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		err := s.g.withLockNoIndex(r.Context(), false, "serve", func(rp *repo.Repository) error {
			st, err := metrics.RepositoryState(r.Context(), rp, rp.Backend())
			if err == nil {
				set.SetRepository(st)
			}
			return err
		})
		s.mu.Unlock()
		if err != nil {
			http.Error(w, "reading the repository: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Tables reads the schema of each database source's newest snapshot and
// of the one before it (same source and tier), for the rows of each
// table then and now.
func (s *repoSource) Tables(ctx context.Context) ([]dashboard.SourceTables, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []dashboard.SourceTables
	err := s.g.withReader(ctx, "serve", func(r *repo.Repository) error {
		sns, err := r.Snapshots(ctx)
		if err != nil {
			return err
		}
		// The newest snapshot of each source, and the one before it of
		// the same tier; sns are oldest first.
		newest := map[string]*repo.Snapshot{}
		var order []string
		for _, sn := range sns {
			key, ok := dbexport.SnapshotSource(sn)
			if !ok {
				continue
			}
			if newest[key] == nil {
				order = append(order, key)
			}
			newest[key] = sn
		}
		slices.Sort(order)
		for _, key := range order {
			sn := newest[key]
			st := dashboard.SourceTables{Source: key, Snapshot: sn.ID.Short(), Time: sn.Time, Tier: sn.Tier}
			schema, err := dbexport.LoadSchema(ctx, r, sn.Tree)
			if err != nil {
				return fmt.Errorf("snapshot %s of %s: %w", sn.ID.Short(), key, err)
			}
			prevRows := map[string]int64{}
			if prev := previousOf(sns, sn, key); prev != nil {
				if ps, err := dbexport.LoadSchema(ctx, r, prev.Tree); err == nil {
					st.Previous = prev.Time
					for _, t := range ps.Tables {
						prevRows[t.QualifiedName()] = t.Rows
					}
				}
			}
			for _, t := range schema.Tables {
				name := t.QualifiedName()
				rows, in := prevRows[name]
				st.Tables = append(st.Tables, dashboard.TableStatus{Name: name, Rows: t.Rows, PrevRows: rows, InPrev: in && !st.Previous.IsZero()})
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// previousOf is the newest snapshot of sns (oldest first) before sn of
// the same source and tier.
func previousOf(sns []*repo.Snapshot, sn *repo.Snapshot, key string) *repo.Snapshot {
	var prev *repo.Snapshot
	for _, o := range sns {
		if o == sn {
			break
		}
		if k, ok := dbexport.SnapshotSource(o); ok && k == key && o.Tier == sn.Tier && o.Host == sn.Host {
			prev = o
		}
	}
	return prev
}
