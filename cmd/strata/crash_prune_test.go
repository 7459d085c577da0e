package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/repo/prune"
)

// TestKillDuringBackupOrPrune runs, round after round, a backup (of
// standard input, of a folder or of an SQLite table) or a prune after
// forget, as a separate process, and kills it with SIGKILL: a backup at a
// random moment, a prune at a random moment of a phase chosen at random
// (timed from the prunes before). After each kill `check --read-data`
// finds no error, every snapshot not forgotten restores what it saved
// (all of them after a prune, new ones and a sample after a backup), and
// the next backup and the next prune succeed, after which check finds
// nothing at all. STRATA_KILL_LOOPS sets the number of kills (default 20;
// `make test-faults` runs 200), STRATA_KILL_SEED the random choices.
func TestKillDuringBackupOrPrune(t *testing.T) {
	killBackupOrPrune(t, killLoops(t, 20, 3), nil)
}

// TestKillDuringBackupOrPruneS3 is TestKillDuringBackupOrPrune with the
// repository in a bucket of a MinIO server on loopback: a kill leaves
// uploads cut in the middle (which S3 never stores), requests the
// server finished that the client never heard of, and lock objects.
func TestKillDuringBackupOrPruneS3(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: minutes of kills against MinIO; make test-faults and make test-long run it")
	}
	killBackupOrPrune(t, killLoops(t, 10, 2), (*killRig).onS3)
}

// TestKillDuringBackupOrPruneSeaweedFS is TestKillDuringBackupOrPrune
// with the repository in a bucket of a SeaweedFS cluster on loopback
// (master, two volume servers, filer, S3 gateway): the same kills against
// a store whose every write goes through three servers.
func TestKillDuringBackupOrPruneSeaweedFS(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: minutes of kills against a SeaweedFS cluster; make test-faults and make test-long run it")
	}
	killBackupOrPrune(t, killLoops(t, 10, 2), (*killRig).onSeaweedFS)
}

// killBackupOrPrune runs loops rounds of TestKillDuringBackupOrPrune, in
// the bucket that store moves the repository to when not nil.
func killBackupOrPrune(t *testing.T, loops int, store func(*killRig)) {
	rng := killRand(t)
	start := time.Now()
	k := newKillRig(t, killPruneRows)
	if store != nil {
		store(k)
	}
	k.cli.ok("init", "--pack-size", "1")
	k.table = newKillTable(t, 5_000)
	useForget := k.hasForget()
	if !useForget {
		t.Log("this strata has no forget command: the test removes snapshot files itself")
	}

	version := 0
	job := func(kind string) backupJob {
		if kind == "table" {
			return k.tableJob(rng)
		}
		version++
		data := k.writeVersion(version)
		if kind == "files" {
			return k.filesJob(data)
		}
		return k.stdinJob(data)
	}
	// One complete backup of each kind, timed: a backup is killed between
	// 0 and the time its kind took last.
	took := map[string]time.Duration{}
	backup := func(kind string) {
		j := job(kind)
		start := time.Now()
		k.backup(j)
		took[kind] = time.Since(start)
	}
	for _, kind := range []string{"stdin", "files", "table", "stdin"} {
		backup(kind)
	}

	s := newKillStats()
	timing := pruneTiming{}
	for round := 1; round <= loops; round++ {
		var res killResult
		var what string
		pruned := rng.IntN(2) == 1
		if !pruned {
			kind := killKind(rng)
			delay := time.Duration(rng.Int64N(int64(took[kind])))
			res = k.killedBackup(job(kind), delay)
			what = s.backupKilled(kind, res)
		} else {
			k.forget(1+rng.IntN(2), useForget)
			var pk pruneKill
			res, pk = k.killedPrune(rng, timing)
			what = s.pruneKilled(pk)
		}
		t.Logf("round %d: %s", round, what)
		k.checkAfterKill(round, res)
		if pruned {
			// Prune removes files: every snapshot must still restore.
			for _, id := range k.sortedIDs() {
				k.verify(id)
			}
		} else {
			k.verifySnapshots(round, rng)
		}
		backup(killKind(rng))
		k.completePrune(round, timing)
	}
	k.verifyAll()
	summary := fmt.Sprintf("survived %d kills in %v: %s", loops, time.Since(start).Round(time.Second), s)
	t.Log(summary)
	fmt.Println("kill test:", summary) // the last line of `make test-faults`
}

// killPruneRows is the size of the exported table of
// TestKillDuringBackupOrPrune: about 11 MB, so that prune takes long
// enough to be killed in each phase, and a round stays short.
const killPruneRows = 80_000

func killKind(rng *rand.Rand) string {
	return []string{"stdin", "stdin", "stdin", "files", "files", "table"}[rng.IntN(6)]
}

// The phases of prune, each started by a progress line whose first word
// names it; "start" runs until the first line.
var prunePhases = []string{"start", "marking", "planning", "repacking", "writing", "removing"}

// pruneTiming is how long each phase of prune took last time it was seen
// whole ("removing" until the process exited).
type pruneTiming map[string]time.Duration

func (pt pruneTiming) of(phase string) time.Duration {
	if phase == "any" {
		var sum time.Duration
		for _, p := range prunePhases {
			sum += pt.of(p)
		}
		return sum
	}
	if d, ok := pt[phase]; ok {
		return d
	}
	return 30 * time.Millisecond
}

// pruneKill tells where a killed prune was.
type pruneKill struct {
	target    string // the phase chosen, or "any"
	phase     string // the phase it was in at the kill
	completed bool   // it finished first
	state     string // what it had changed in the repository
}

// killedPrune starts a prune and kills it at a random moment of a phase
// chosen at random, the phases that write weighted most. A target phase
// the prune skips (no packs to repack) moves the kill to the next one.
func (k *killRig) killedPrune(rng *rand.Rand, timing pruneTiming) (killResult, pruneKill) {
	k.t.Helper()
	targets := []string{"start", "marking", "planning", "repacking", "repacking", "repacking", "writing", "writing", "removing", "removing", "removing", "any", "any"}
	pk := pruneKill{target: targets[rng.IntN(len(targets))], phase: "start"}
	before := k.files()
	p := k.start([]string{"prune"}, "")
	res := killResult{pid: p.cmd.Process.Pid}

	var fire <-chan time.Time
	arm := func(phase string) {
		if fire == nil {
			fire = time.After(time.Duration(rng.Int64N(int64(timing.of(phase)) + 1)))
		}
	}
	if pk.target == "start" || pk.target == "any" {
		arm(pk.target)
	}
	phaseStart := time.Now()
wait:
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				timing[pk.phase] = time.Since(phaseStart)
				break wait
			}
			next := strings.Fields(l.text + " ")[0]
			if !slices.Contains(prunePhases, next) {
				continue // a notice
			}
			timing[pk.phase] = l.at.Sub(phaseStart)
			pk.phase, phaseStart = next, l.at
			if slices.Index(prunePhases, next) >= slices.Index(prunePhases, pk.target) {
				arm(next)
			}
		case <-fire:
			break wait
		}
	}
	pk.completed = k.kill(p)
	res.completed = pk.completed
	pk.state = k.pruneLeft(before, k.files(), &res)
	res.lockLeft = k.lockLeft(res.pid)
	return res, pk
}

// pruneLeft compares the repository before and after a killed prune,
// fails the test if prune touched a file it must not, and says what it
// had changed.
func (k *killRig) pruneLeft(before, after map[string]int64, res *killResult) string {
	k.t.Helper()
	var newIndex, removedIndex, removedPacks int
	// Locks, temporary files and the reserve for a full disk (which prune
	// writes again when it is done) are no repository files; prune
	// records its removals in the journal and compacts it at the end, so
	// journal files come and go (check, after the kill, judges them).
	skip := func(name string) bool {
		return strings.HasPrefix(name, "locks/") || strings.Contains(name, "/.tmp-") ||
			strings.HasPrefix(name, ".tmp-") || name == "reserve" || strings.HasPrefix(name, "journal/")
	}
	for name, size := range before {
		if skip(name) {
			continue
		}
		got, ok := after[name]
		switch {
		case ok && got != size:
			k.t.Errorf("the killed prune changed %s (%d bytes, now %d)", name, size, got)
		case !ok && strings.HasPrefix(name, "index/"):
			removedIndex++
		case !ok && strings.HasPrefix(name, "data/"):
			removedPacks++
		case !ok:
			k.t.Errorf("the killed prune removed %s", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; ok {
			continue
		}
		switch {
		case skip(name):
		case strings.HasPrefix(name, "data/"):
			res.newPacks = append(res.newPacks, name)
		case strings.HasPrefix(name, "index/"):
			newIndex++
		case strings.HasPrefix(name, "audit/"):
			// prune's own audit record, written when it ends: by a
			// prune that finished before the kill came, or one that
			// took the signal it records.
		default:
			k.t.Errorf("the killed prune wrote %s", name)
		}
	}
	res.indexed = newIndex > 0
	res.wrote = len(res.newPacks)+newIndex > 0
	switch {
	case removedIndex+removedPacks > 0:
		return "removing"
	case newIndex > 0:
		return "new index, nothing removed"
	case len(res.newPacks) > 0:
		return "new packs only"
	}
	return "nothing changed"
}

// completePrune runs prune to the end, as the next prune after a kill,
// timing its phases: it leaves at most 5% of the pack bytes unused, and
// check then finds nothing at all, not even an unreferenced pack.
func (k *killRig) completePrune(round int, timing pruneTiming) {
	k.t.Helper()
	p := k.start([]string{"prune", "--json"}, "")
	phase, phaseStart := "start", time.Now()
	for l := range p.lines {
		if next := strings.Fields(l.text + " ")[0]; slices.Contains(prunePhases, next) {
			timing[phase] = l.at.Sub(phaseStart)
			phase, phaseStart = next, l.at
		}
	}
	err := p.cmd.Wait()
	timing[phase] = time.Since(phaseStart)
	if err != nil {
		k.t.Fatalf("round %d: prune after the kill: %v\n%s\n%s", round, err, p.out.String(), p.stderr())
	}
	var rep struct {
		UnusedShareAfter float64 `json:"unused_share_after"`
	}
	if err := json.Unmarshal(p.out.Bytes(), &rep); err != nil || rep.UnusedShareAfter > prune.DefaultMaxUnused {
		k.t.Errorf("round %d: prune --json: %v; want at most %.0f%% unused\n%s", round, err, 100*prune.DefaultMaxUnused, p.out.String())
	}
	if out, _ := k.strata(0, "check"); strings.Contains(out, "notice:") || strings.Contains(out, "error:") {
		k.t.Fatalf("round %d: check after a complete prune:\n%s", round, out)
	}
}

// killStats counts the kills of TestKillDuringBackupOrPrune.
type killStats struct {
	backups, backupsDone int
	backupKinds          map[string]int
	prunes, prunesDone   int
	prunePhases          map[string]int // killed mid-prune, by phase
	pruneStates          map[string]int // killed mid-prune, by what it had changed
}

func newKillStats() *killStats {
	return &killStats{backupKinds: map[string]int{}, prunePhases: map[string]int{}, pruneStates: map[string]int{}}
}

func (s *killStats) backupKilled(kind string, res killResult) string {
	s.backups++
	s.backupKinds[kind]++
	state := "killed"
	switch {
	case res.completed:
		s.backupsDone++
		state = "finished before the kill"
	case res.wrote:
		state = fmt.Sprintf("killed after writing (%d new packs)", len(res.newPacks))
	}
	return fmt.Sprintf("backup (%s) %s", kind, state)
}

func (s *killStats) pruneKilled(pk pruneKill) string {
	s.prunes++
	if pk.completed {
		s.prunesDone++
		return fmt.Sprintf("prune (aimed at %s) finished before the kill", pk.target)
	}
	s.prunePhases[pk.phase]++
	s.pruneStates[pk.state]++
	return fmt.Sprintf("prune (aimed at %s) killed in %s: %s", pk.target, pk.phase, pk.state)
}

func (s *killStats) String() string {
	counts := func(m map[string]int, order []string) string {
		var parts []string
		for _, key := range order {
			if m[key] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", key, m[key]))
			}
		}
		return strings.Join(parts, ", ")
	}
	mid := s.prunes - s.prunesDone
	share := 0.0
	if s.prunes > 0 {
		share = 100 * float64(mid) / float64(s.prunes)
	}
	return fmt.Sprintf("%d backups (%s; %d finished first), %d prunes of which %d (%.0f%%) killed while running (by phase: %s; by what they had changed: %s)",
		s.backups, counts(s.backupKinds, []string{"stdin", "files", "table"}), s.backupsDone,
		s.prunes, mid, share, counts(s.prunePhases, prunePhases),
		counts(s.pruneStates, []string{"nothing changed", "new packs only", "new index, nothing removed", "removing"}))
}
