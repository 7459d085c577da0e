package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/internal/benchrepo"
	"strata/pack"
	"strata/repo"
	"strata/repo/retention"
)

// pruneReport is the part of `strata prune --json` the benchmark reads.
type pruneReport struct {
	Snapshots         int   `json:"snapshots"`
	UsedBlobs         int   `json:"used_blobs"`
	BaseOnlyBlobs     int   `json:"base_only_blobs"`
	BaseOnlyBytes     int64 `json:"base_only_bytes"`
	UnusedBlobs       int   `json:"unused_blobs"`
	UsedBytes         int64 `json:"used_bytes"`
	UnusedBytes       int64 `json:"unused_bytes"`
	Packs             int   `json:"packs"`
	PacksKept         int   `json:"packs_kept"`
	PacksRepacked     int   `json:"packs_repacked"`
	PacksDeleted      int   `json:"packs_deleted"`
	PacksUnindexed    int   `json:"packs_unindexed"`
	PacksWritten      int   `json:"packs_written"`
	RepackedBlobs     int   `json:"repacked_blobs"`
	RepackedBytes     int64 `json:"repacked_bytes"`
	BytesBefore       int64 `json:"bytes_before"`
	BytesAfter        int64 `json:"bytes_after"`
	UnusedAfter       int64 `json:"unused_after"`
	IndexFilesWritten int   `json:"index_files_written"`
	IndexFilesRemoved int   `json:"index_files_removed"`
	IndexMemory       int64 `json:"index_memory"`
	MarkMemory        int64 `json:"mark_memory"`
	BytesFreed        int64 `json:"bytes_freed"`
}

// forgetReport is the part of `strata forget --json` the benchmark reads.
type forgetReport struct {
	PolicySource string `json:"policy_source"`
	PolicyFlags  string `json:"policy_flags"`
	Timezone     string `json:"timezone"`
	Keep         int    `json:"keep"`
	Remove       int    `json:"remove"`
}

// snapshotInfo is the part of `strata snapshots --json` the benchmark
// reads.
type snapshotInfo struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

// measurement is everything the run measured.
type measurement struct {
	selfRSSKiB                   int64 // this process, before the children
	repoBefore, repoAfterForget  int64
	repoAfter                    int64
	snapsBefore                  int
	kept                         []snapshotInfo // after forget
	expectedKept                 int
	forget, baseline, prune, chk run
	defaultKey                   run // cat config with the default key derivation
	forgetRep                    forgetReport
	pruneRep                     pruneReport
	restored                     int
	restoreSeconds               float64
	restoredBytes                int64
	deltas                       deltaReport
	series                       keptSeries
	problems                     []string // what failed; any fails the run
}

func (m *measurement) fail(format string, args ...any) {
	m.problems = append(m.problems, fmt.Sprintf(format, args...))
}

func (m *measurement) failed() error {
	if len(m.problems) == 0 {
		return nil
	}
	return errors.New("FAILED:\n  " + strings.Join(m.problems, "\n  "))
}

// measure runs forget, the baseline, prune and check on the repository
// in dir with the real binary.
func measure(c config, env []string, dir string, b *buildRecord) (*measurement, error) {
	m := &measurement{selfRSSKiB: selfRSSKiB()}
	var err error
	if m.repoBefore, err = benchrepo.Size(dir); err != nil {
		return nil, err
	}
	before, err := snapshots(c, env)
	if err != nil {
		return nil, err
	}
	m.snapsBefore = len(before)
	if m.snapsBefore != c.hours {
		m.fail("the repository holds %d snapshots, the build made %d", m.snapsBefore, c.hours)
	}

	// forget applies no policy by itself: the default one is given as
	// the flags it is written as.
	policyFlags := strings.Fields(retention.DefaultPolicy().String())
	fmt.Printf("strata forget --json %s (the default policy)\n", strings.Join(policyFlags, " "))
	var out bytes.Buffer
	if m.forget, err = command(env, &out, c.strata, append([]string{"forget", "--json"}, policyFlags...)...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(out.Bytes(), &m.forgetRep); err != nil {
		return nil, fmt.Errorf("reading the output of strata forget --json: %w: %q", err, out.String())
	}
	if m.forgetRep.PolicySource != "flags" {
		m.fail("forget applied the policy from %q, not the flags", m.forgetRep.PolicySource)
	}
	if m.kept, err = snapshots(c, env); err != nil {
		return nil, err
	}
	want, err := expectedKept(b)
	if err != nil {
		return nil, err
	}
	m.expectedKept = len(want)
	got := make([]string, len(m.kept))
	for i, sn := range m.kept {
		got[i] = sn.ID
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		m.fail("forget kept %d snapshots; repo/retention's default policy keeps %d others (or more)", len(got), len(want))
	}
	if m.repoAfterForget, err = benchrepo.Size(dir); err != nil {
		return nil, err
	}

	fmt.Println("strata cat config (baseline: open the repository, load the index)")
	if m.baseline, err = command(env, nil, c.strata, "cat", "config"); err != nil {
		return nil, err
	}

	fmt.Println("strata prune --json")
	out.Reset()
	if m.prune, err = command(env, &out, c.strata, "prune", "--json"); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(out.Bytes(), &m.pruneRep); err != nil {
		return nil, fmt.Errorf("reading the output of strata prune --json: %w: %q", err, out.String())
	}
	if m.pruneRep.Snapshots != len(m.kept) {
		m.fail("prune saw %d snapshots, forget left %d", m.pruneRep.Snapshots, len(m.kept))
	}
	if m.repoAfter, err = benchrepo.Size(dir); err != nil {
		return nil, err
	}

	fmt.Println("strata check --read-data")
	out.Reset()
	if m.chk, err = command(env, &out, c.strata, "check", "--read-data"); err != nil {
		m.fail("check --read-data after prune: %v", err)
	}
	if after, err := snapshots(c, env); err != nil {
		return nil, err
	} else if len(after) != len(m.kept) {
		m.fail("prune changed the snapshots: %d before, %d after", len(m.kept), len(after))
	}
	return m, nil
}

// snapshots lists the repository's snapshots.
func snapshots(c config, env []string) ([]snapshotInfo, error) {
	var out bytes.Buffer
	if _, err := command(env, &out, c.strata, "snapshots", "--json"); err != nil {
		return nil, err
	}
	var sns []snapshotInfo
	if err := json.Unmarshal(out.Bytes(), &sns); err != nil {
		return nil, fmt.Errorf("reading the output of strata snapshots --json: %w", err)
	}
	return sns, nil
}

// expectedKept applies repo/retention's default policy (in UTC, as the
// children run with TZ=UTC) to the built snapshots and returns the IDs
// it keeps, sorted.
func expectedKept(b *buildRecord) ([]string, error) {
	var sns []*repo.Snapshot
	for _, r := range b.Records {
		id, err := pack.ParseID(r.Snapshot)
		if err != nil {
			return nil, err
		}
		sns = append(sns, &repo.Snapshot{ID: id, Time: r.Time, Host: benchHost, Source: benchSource, Tier: benchTier})
	}
	groups, err := retention.Apply(sns, retention.DefaultPolicy(), retention.Options{Location: time.UTC})
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, g := range groups {
		for _, d := range g.Decisions {
			if d.Keep {
				keep = append(keep, d.Snapshot.ID.String())
			}
		}
	}
	slices.Sort(keep)
	return keep, nil
}
