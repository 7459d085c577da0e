package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/gendata"
	"strata/internal/miniotest"
	"strata/internal/seaweedtest"
	"strata/repo"
	"strata/repo/backend"
)

// TestKillDuringBackup starts `strata backup --stdin` as a separate
// process, kills it with SIGKILL at a random moment, and checks what a
// crash may leave behind: `check --read-data` passes (unreferenced packs
// are only a notice), every snapshot saved before dumps the same bytes,
// the killed process's lock is ignored without `strata unlock`, and the
// next backup completes. STRATA_KILL_LOOPS sets the number of kills
// (default 8), STRATA_KILL_SEED the random delays.
func TestKillDuringBackup(t *testing.T) {
	loops := killLoops(t, 8, 2)
	rng := killRand(t)
	t.Logf("%d kills", loops)

	k := newKillRig(t, killRows)
	// The repository is made in-process, so its key is cheap to open;
	// the binary opens it like any other.
	k.cli.ok("init", "--pack-size", "1")

	// The first snapshot, then two backups of changed data, timed: kills
	// land between 0 and the shorter duration (the machine may be busy
	// with other work for one of them).
	k.backup(k.stdinJob(k.writeVersion(0)))
	full := time.Duration(1<<63 - 1)
	for round := 1; round <= 2; round++ {
		job := k.stdinJob(k.writeVersion(round))
		start := time.Now()
		k.backup(job)
		full = min(full, time.Since(start))
	}
	t.Logf("a complete backup of %d MB takes %v", len(k.base)>>20, full.Round(time.Millisecond))

	var survived, midWrite, finished, before, staleRemoved int
	for round := 3; round < loops+3; round++ {
		job := k.stdinJob(k.writeVersion(round))
		delay := time.Duration(rng.Int64N(int64(full)))
		res := k.killedBackup(job, delay)
		switch {
		case res.completed:
			finished++
		case res.wrote:
			midWrite++
		default:
			before++
		}

		// The next command ignores the dead process's lock by itself.
		out := k.checkAfterKill(round, res)
		if res.lockLeft {
			staleRemoved++
		}
		if len(res.newPacks) > 0 && !res.completed && !strings.Contains(out, "not referenced") && !res.indexed {
			t.Errorf("round %d: %d packs left by the kill, but check has no notice about unreferenced packs:\n%s", round, len(res.newPacks), out)
		}
		k.exclusiveLock(round)
		k.verifySnapshots(round, rng)
		k.backup(job)
		survived++
	}
	k.verifyAll()
	// What the killed processes left: temporary files in the repository
	// (ignored by every reader) and packs in progress in TMPDIR.
	repoTemps := 0
	for name := range k.files() {
		if strings.Contains(name, "/.tmp-") || strings.HasPrefix(name, ".tmp-") {
			repoTemps++
		}
	}
	tmpLeft, _ := os.ReadDir(k.tmpdir)
	t.Logf("left behind: %d temporary files in the repository, %d files in TMPDIR", repoTemps, len(tmpLeft))
	t.Logf("survived %d kills: %d mid-write, %d before anything was written, %d after the backup completed; %d stale locks removed; %d snapshots verified",
		survived, midWrite, before, finished, staleRemoved, len(k.snapshots))
}

// killLoops is the number of kills a kill test runs: STRATA_KILL_LOOPS,
// else short under -short, else def.
func killLoops(t *testing.T, def, short int) int {
	t.Helper()
	if s := os.Getenv("STRATA_KILL_LOOPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("STRATA_KILL_LOOPS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

// killRand returns the random source of a kill test, seeded from
// STRATA_KILL_SEED or the clock; the seed is logged to repeat a run.
func killRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STRATA_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("STRATA_KILL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("STRATA_KILL_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// killRig holds the state of the kill test.
type killRig struct {
	t      *testing.T
	cli    *tcli  // in-process, on the same repository
	bin    string // the strata binary
	envv   []string
	tmp    string   // the data files
	tmpdir string   // TMPDIR of the strata processes
	base   []byte   // version 0 of the table
	rows   [][]byte // its rows, by id-1
	change *gendata.Changes

	snapshots map[string]saved // by snapshot ID
	verified  map[string]bool  // restored since the last round
	table     *killTable       // the SQLite table, once made
}

const killRows = 226_000 // about 30 MB of generated export

// newKillRig generates a table of rows rows for the stream and files
// backups (killRows: about 30 MB).
func newKillRig(t *testing.T, rows int64) *killRig {
	k := &killRig{t: t, cli: newCLI(t), bin: buildStrata(t), tmp: t.TempDir(), tmpdir: t.TempDir(),
		snapshots: map[string]saved{}, verified: map[string]bool{}}
	k.setEnv()
	k.base, k.rows = generateRows(rows)
	k.change = &gendata.Changes{Versions: map[int64]int{}, Rows: rows}
	return k
}

// setEnv sets the environment of the strata processes: the test's own,
// without STRATA_*, TMPDIR and S3 credentials, then the repository's.
func (k *killRig) setEnv() {
	k.envv = nil
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") && !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			k.envv = append(k.envv, kv)
		}
	}
	k.envv = append(k.envv, "STRATA_REPOSITORY="+k.cli.repo, "STRATA_PASSWORD_FILE="+k.cli.pwFile, "TMPDIR="+k.tmpdir, "XDG_STATE_HOME="+k.tmpdir)
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if v := k.cli.vars[name]; v != "" {
			k.envv = append(k.envv, name+"="+v)
		}
	}
}

// onS3 moves the rig's repository (not yet made) into a new bucket of
// the test MinIO server.
func (k *killRig) onS3() {
	srv := miniotest.Get(k.t)
	k.inBucket(srv.URL(miniotest.NewBucket(k.t), "kill"), srv.Env())
}

// onSeaweedFS moves the rig's repository (not yet made) into a new bucket
// of the test SeaweedFS cluster.
func (k *killRig) onSeaweedFS() {
	c := seaweedtest.Get(k.t)
	k.inBucket(c.URL(seaweedtest.NewBucket(k.t), "kill"), c.Env())
}

// inBucket moves the rig's repository to url, with the credentials env
// (NAME=value).
func (k *killRig) inBucket(url string, env []string) {
	k.cli.repo = url
	k.cli.vars["STRATA_REPOSITORY"] = k.cli.repo
	for _, kv := range env {
		name, v, _ := strings.Cut(kv, "=")
		k.cli.vars[name] = v
	}
	k.setEnv()
}

// generateRows returns version 0 of a table of n rows, the bytes
// gendata.WriteVersion writes, and its rows. The rows are written in
// parallel: under the race detector one writer needs seconds.
func generateRows(n int64) ([]byte, [][]byte) {
	parts := runtime.GOMAXPROCS(0)
	bufs := make([]bytes.Buffer, parts)
	ends := make([][]int, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := n*int64(p)/int64(parts) + 1; id <= n*int64(p+1)/int64(parts); id++ {
				gendata.Row(&bufs[p], id, 0)
				ends[p] = append(ends[p], bufs[p].Len())
			}
		}()
	}
	wg.Wait()
	var all []byte
	var rows [][]byte
	for p := range parts {
		off := len(all)
		all = append(all, bufs[p].Bytes()...)
		start := 0
		for _, end := range ends[p] {
			rows = append(rows, all[off+start:off+end:off+end])
			start = end
		}
	}
	return all, rows
}

// writeVersion applies one more hour of churn (seeded by round) and writes
// the table to a file, as gendata.WriteVersion would: unchanged rows are
// copied from version 0, changed and new ones generated.
func (k *killRig) writeVersion(round int) killData {
	k.t.Helper()
	if round > 0 {
		gendata.Churn(k.change, 0.005, int64(round))
	}
	path := filepath.Join(k.tmp, "export.tsv")
	f, err := os.Create(path)
	if err != nil {
		k.t.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	for id := int64(1); id <= k.change.Rows; id++ {
		if v := k.change.Versions[id]; v > 0 || id > int64(len(k.rows)) {
			gendata.Row(w, id, v)
		} else {
			w.Write(k.rows[id-1])
		}
	}
	if err := w.Flush(); err != nil {
		k.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		k.t.Fatal(err)
	}
	return killData{path: path, sum: hex.EncodeToString(h.Sum(nil))}
}

type killData struct {
	path string
	sum  string // SHA-256
}

// strata runs the binary to completion; it must exit with code.
func (k *killRig) strata(code int, args ...string) (string, string) {
	k.t.Helper()
	cmd := exec.Command(k.bin, args...)
	cmd.Env = k.envv
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		k.t.Fatal(err)
	}
	if got != code {
		k.t.Fatalf("strata %s: exit %d, want %d\nstdout: %.2000s\nstderr: %s", strings.Join(args, " "), got, code, out.String(), errOut.String())
	}
	noPanic(k.t, out.String(), errOut.String())
	return out.String(), errOut.String()
}

// backup runs job to completion and records the snapshot.
func (k *killRig) backup(job backupJob) {
	k.t.Helper()
	p := k.start(append([]string{"backup", "--json"}, job.args...), job.stdin)
	if err := p.cmd.Wait(); err != nil {
		k.t.Fatalf("backup (%s): %v\n%s", job.kind, err, p.stderr())
	}
	k.record(p.out.Bytes(), job.want)
}

func (k *killRig) record(jsonOut []byte, want saved) {
	k.t.Helper()
	var res struct{ ID string }
	if err := json.Unmarshal([]byte(lastLine(string(jsonOut))), &res); err != nil || res.ID == "" {
		k.t.Fatalf("backup --json printed %q: %v", jsonOut, err)
	}
	k.snapshots[res.ID] = want
}

// killResult tells what a killed backup or prune left behind.
type killResult struct {
	pid       int
	completed bool     // it finished before the kill
	wrote     bool     // it had written packs, index or temporary files
	indexed   bool     // an index file was written
	lockLeft  bool     // its lock file is still there
	newPacks  []string // packs that appeared
}

// killedBackup starts job and kills it after delay.
func (k *killRig) killedBackup(job backupJob, delay time.Duration) killResult {
	k.t.Helper()
	before := k.files()
	p := k.start(append([]string{"backup", "--json"}, job.args...), job.stdin)
	res := killResult{pid: p.cmd.Process.Pid}
	time.Sleep(delay)
	if res.completed = k.kill(p); res.completed {
		k.record(p.out.Bytes(), job.want)
	}

	after := k.files()
	for name, size := range before {
		if strings.HasPrefix(name, "locks/") || name == "reserve" {
			continue // the reserve for a full disk is no repository file
		}
		if got, ok := after[name]; !ok || got != size {
			k.t.Errorf("the killed backup changed or removed %s (%d bytes, now %d)", name, size, got)
		}
	}
	for name := range after {
		if _, ok := before[name]; ok {
			continue
		}
		switch {
		case strings.Contains(name, "/.tmp-") || strings.HasPrefix(name, ".tmp-"):
			// A file the kill caught mid-write (a pack's among them):
			// no reader lists it, so check cannot call it unreferenced.
			res.wrote = true
		case strings.HasPrefix(name, "data/"):
			res.newPacks = append(res.newPacks, filepath.Base(name))
			res.wrote = true
		case strings.HasPrefix(name, "index/"):
			res.indexed, res.wrote = true, true
		case strings.HasPrefix(name, "snapshots/"):
			// Saved, then killed before it printed the ID: it must be
			// a snapshot of the job's data.
			id := filepath.Base(name)
			if _, ok := k.snapshots[id]; !ok {
				k.snapshots[id] = job.want
				res.completed = true
			}
		}
	}
	res.lockLeft = k.lockLeft(res.pid)
	return res
}

// lockLeft reports whether the process pid left its lock file.
func (k *killRig) lockLeft(pid int) bool {
	k.t.Helper()
	r := k.cli.openAPI(repo.Options{})
	locks, err := r.Locks(context.Background())
	if err != nil {
		k.t.Fatal(err)
	}
	for _, l := range locks {
		if l.PID == pid {
			return true
		}
	}
	return false
}

// checkAfterKill runs `check --read-data` after a kill and returns its
// output: it must find no error (unreferenced packs are only a notice),
// and it must remove the lock of the killed process (this host, boot and
// PID namespace) by itself, with a notice.
func (k *killRig) checkAfterKill(round int, res killResult) string {
	k.t.Helper()
	out, errOut := k.strata(0, "check", "--read-data")
	if !strings.Contains(out, "no errors were found") {
		k.t.Fatalf("round %d: check --read-data after the kill:\n%s\n%s", round, out, errOut)
	}
	if res.lockLeft {
		notice := fmt.Sprintf("process %d is gone", res.pid)
		if !strings.Contains(errOut, "notice: removed stale") || !strings.Contains(errOut, notice) {
			k.t.Errorf("round %d: the killed process's lock is not removed with a notice (%q):\n%s", round, notice, errOut)
		}
		if k.lockLeft(res.pid) {
			k.t.Errorf("round %d: the killed process's lock is still there after check", round)
		}
	}
	return out
}

// files lists every file of the repository with its size, temporary
// files included.
func (k *killRig) files() map[string]int64 {
	k.t.Helper()
	files := map[string]int64{}
	if strings.HasPrefix(k.cli.repo, "s3:") {
		be := k.cli.storage()
		for _, t := range backend.FileTypes {
			err := be.List(context.Background(), t, func(fi backend.FileInfo) error {
				files[fi.Handle.String()] = fi.Size
				return nil
			})
			if err != nil {
				k.t.Fatal(err)
			}
		}
		return files
	}
	err := filepath.Walk(k.cli.repo, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(k.cli.repo, p)
			files[filepath.ToSlash(rel)] = fi.Size()
		}
		return err
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return files
}

// exclusiveLock takes and releases an exclusive lock, as prune will: a
// lock left by a killed process must not stand in the way.
func (k *killRig) exclusiveLock(round int) {
	k.t.Helper()
	r := k.cli.openAPI(repo.Options{})
	l, err := r.Lock(context.Background(), true, "kill test")
	if err != nil {
		k.t.Fatalf("round %d: exclusive lock after the kill: %v", round, err)
	}
	if err := l.Unlock(context.Background()); err != nil {
		k.t.Fatal(err)
	}
}

// verifySnapshots restores, each round, the snapshots saved since the
// last one, the oldest and one more at random; verifyAll restores all at
// the end.
func (k *killRig) verifySnapshots(round int, rng *rand.Rand) {
	k.t.Helper()
	ids := k.sortedIDs()
	pick := map[string]bool{ids[0]: true, ids[rng.IntN(len(ids))]: true}
	for _, id := range ids {
		if !k.verified[id] {
			pick[id] = true
		}
	}
	for id := range pick {
		k.verify(id)
	}
}

func (k *killRig) verifyAll() {
	k.t.Helper()
	var listed []snapshotJSON
	out, _ := k.strata(0, "snapshots", "--json")
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		k.t.Fatal(err)
	}
	if len(listed) != len(k.snapshots) {
		k.t.Errorf("the repository lists %d snapshots, the test saved %d", len(listed), len(k.snapshots))
	}
	for _, id := range k.sortedIDs() {
		k.verify(id)
	}
	k.strata(0, "check", "--read-data")
}

func (k *killRig) sortedIDs() []string {
	ids := make([]string, 0, len(k.snapshots))
	for id := range k.snapshots {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// verify checks that snapshot id restores what it saved: a stream or
// file through `dump`, a table through `restore --db` (see killTable).
func (k *killRig) verify(id string) {
	k.t.Helper()
	want := k.snapshots[id]
	var got string
	if want.path == "" {
		got = k.table.restoredSum(k, id)
	} else {
		got = k.dumpSum(id, want.path)
	}
	if got != want.sum {
		k.t.Errorf("snapshot %s restores other content than it saved (%q)", id[:8], want.path)
	}
	k.verified[id] = true
}

// dumpSum returns the SHA-256 of what `dump id path` writes.
func (k *killRig) dumpSum(id, path string) string {
	k.t.Helper()
	cmd := exec.Command(k.bin, "dump", id, path)
	cmd.Env = k.envv
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		k.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, pipe); err != nil {
		k.t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		k.t.Fatalf("dump %s %s: %v\n%s", id[:8], path, err, errOut.String())
	}
	return hex.EncodeToString(h.Sum(nil))
}
