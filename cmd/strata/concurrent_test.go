package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
)

// TestConcurrentBackupsThenPrune runs five backups at once, as separate
// processes, into one repository: a table export on standard input, the
// same bytes under another name, the same export without its first rows,
// and the export in two folders. Each process loaded the index before the
// others stored anything, so blobs two inputs share may be stored twice.
// The test checks that nothing is lost (check --read-data, every snapshot
// restores), that no blob has more copies than the inputs that hold it
// explain, that prune --max-unused 0 leaves one copy of every data blob
// and two of every tree blob (docs/design.md, "Tree copies") and none
// unused, and that after a second round and forget, the default prune
// leaves at most 5% of the pack bytes unused, as it reports.
func TestConcurrentBackupsThenPrune(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	k := newKillRig(t, 40_000)
	k.cli.ok("init", "--pack-size", "1")

	ids := k.concurrentRound(1)
	copies := k.pruneUnused("--max-unused", "0")
	for id, locs := range copies {
		if want := repo.Copies(locs[0].Type); len(locs) != want {
			t.Errorf("%s blob %s is stored %d times after prune --max-unused 0, want %d", locs[0].Type, id.Short(), len(locs), want)
		}
	}
	t.Logf("after prune --max-unused 0: %d blobs, one copy each (two of trees)", len(copies))

	// The default prune on the copies of the second round, then again
	// after forgetting the first: each input is a group of its own (host
	// and source), so keeping the last of each forgets the first round.
	k.concurrentRound(2)
	k.pruneUnused()
	k.forget(1, k.hasForget())
	for _, id := range ids {
		if _, ok := k.snapshots[id]; ok {
			t.Errorf("forget kept snapshot %s of the first round", id[:8])
		}
	}
	k.pruneUnused()
}

// pruneUnused runs prune --json with args, checks the repository and
// every snapshot, and compares the unused pack bytes the index and the
// snapshots give with the report and with --max-unused (default 5%). It
// returns the copies of each blob.
func (k *killRig) pruneUnused(args ...string) map[pack.ID][]index.Location {
	k.t.Helper()
	out, _ := k.strata(0, append([]string{"prune", "--json"}, args...)...)
	var rep struct {
		UnusedAfter int64 `json:"unused_after"`
		BytesAfter  int64 `json:"bytes_after"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		k.t.Fatalf("prune --json: %v\n%s", err, out)
	}
	k.checkAfterPrune()
	copies, unused, packBytes := k.blobUsage()
	limit := 0.05
	if len(args) == 2 && args[1] == "0" {
		limit = 0
	}
	share := float64(unused) / float64(packBytes)
	k.t.Logf("prune %s: %d of %d pack bytes unused (%.2f%%)", strings.Join(args, " "), unused, packBytes, 100*share)
	if share > limit {
		k.t.Errorf("prune %s left %.2f%% of the pack bytes unused, above %.0f%%", strings.Join(args, " "), 100*share, 100*limit)
	}
	if unused != rep.UnusedAfter || packBytes != rep.BytesAfter {
		k.t.Errorf("prune reported %d unused of %d pack bytes; the index and the snapshots give %d of %d", rep.UnusedAfter, rep.BytesAfter, unused, packBytes)
	}
	return copies
}

// concurrentRound writes version round of the export, backs up the five
// inputs at once, and checks the copies each blob has against the inputs
// that hold it. It returns the new snapshots.
func (k *killRig) concurrentRound(round int) []string {
	k.t.Helper()
	data := k.writeVersion(round)
	shifted := k.derive(data, "shifted.tsv", func(b []byte) []byte { return b[bytes.IndexByte(b[len(b)/50:], '\n')+len(b)/50+1:] })
	jobs := []backupJob{
		k.stdinJob(data),
		k.stdinJob(k.derive(data, "copy.tsv", nil)),
		k.stdinJob(shifted),
		k.filesJob(k.derive(data, "d1/export.tsv", nil)),
		k.filesJob(k.derive(data, "d2/export.tsv", nil)),
	}
	jobs[1].args[2], jobs[1].want.path = "copy.tsv", "/copy.tsv"
	jobs[2].args[2], jobs[2].want.path = "shifted.tsv", "/shifted.tsv"
	before, _, _ := k.blobUsage()

	procs := make([]*killProc, len(jobs))
	for i, j := range jobs {
		procs[i] = k.start(append([]string{"backup", "--json"}, j.args...), j.stdin)
	}
	var ids []string
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			k.t.Fatalf("round %d: concurrent backup %d: %v\n%s", round, i, err, p.stderr())
		}
		k.record(p.out.Bytes(), jobs[i].want)
		var res struct{ ID string }
		_ = json.Unmarshal([]byte(lastLine(p.out.String())), &res)
		ids = append(ids, res.ID)
	}
	k.checkAfterPrune()

	// A blob may have a copy from before the round and one from each new
	// snapshot that holds it (two of a tree), no more.
	r := k.cli.openAPI(repo.Options{})
	holders := map[pack.ID]int{}
	for _, id := range ids {
		for blob := range snapshotBlobs(k.t, r, id) {
			holders[blob]++
		}
	}
	after, _, packBytes := k.blobUsage()
	var dupBytes, explained int64
	dups := 0
	for blob, locs := range after {
		c := repo.Copies(locs[0].Type)
		bound := len(before[blob]) + c*holders[blob]
		if len(locs) > max(bound, c) {
			k.t.Errorf("round %d: blob %s has %d copies, but was stored %d times before and %d new snapshots hold it", round, blob.Short(), len(locs), len(before[blob]), holders[blob])
		}
		if len(locs) > c {
			dups++
			dupBytes += int64(len(locs)-c) * int64(locs[0].Length)
		}
		explained += int64(max(bound, c)-c) * int64(locs[0].Length)
	}
	k.t.Logf("round %d: %d blobs stored more than once, %d duplicate bytes of %d pack bytes (overlapping inputs explain up to %d)",
		round, dups, dupBytes, packBytes, explained)
	return ids
}

// derive writes a file beside data (in a folder of its own if name has
// one) holding change(data), or data itself when change is nil.
func (k *killRig) derive(data killData, name string, change func([]byte) []byte) killData {
	k.t.Helper()
	b, err := os.ReadFile(data.path)
	if err != nil {
		k.t.Fatal(err)
	}
	if change != nil {
		b = change(b)
	}
	path := filepath.Join(k.tmp, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		k.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		k.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return killData{path: path, sum: hex.EncodeToString(sum[:])}
}

// checkAfterPrune checks the repository reading all data, which must have
// no finding at all, and restores every snapshot.
func (k *killRig) checkAfterPrune() {
	k.t.Helper()
	out, _ := k.strata(0, "check", "--read-data")
	if strings.Contains(out, "notice:") || strings.Contains(out, "error:") {
		k.t.Errorf("check --read-data:\n%s", out)
	}
	if n := len(k.listSnapshots()); n != len(k.snapshots) {
		k.t.Errorf("the repository lists %d snapshots, the test expects %d", n, len(k.snapshots))
	}
	for _, id := range k.sortedIDs() {
		k.verify(id)
	}
}

// blobUsage returns every blob's copies in the index, the sealed bytes of
// the copies no snapshot needs (every copy but the one readers pick, or
// the first two of a tree, and every copy of a blob no snapshot holds; the test stores no delta blobs,
// so no blob is used only as a base), and the bytes of all packs.
func (k *killRig) blobUsage() (copies map[pack.ID][]index.Location, unused, packBytes int64) {
	k.t.Helper()
	r := k.cli.openAPI(repo.Options{})
	used := map[pack.ID]bool{}
	for id := range k.snapshots {
		for blob := range snapshotBlobs(k.t, r, id) {
			used[blob] = true
		}
	}
	copies = map[pack.ID][]index.Location{}
	r.Index().Each(func(id pack.ID, loc index.Location) bool {
		copies[id] = append(copies[id], loc)
		return true
	})
	for id, locs := range copies {
		for i, loc := range locs {
			if !used[id] || i >= repo.Copies(loc.Type) {
				unused += int64(loc.Length)
			}
		}
	}
	for name, size := range k.files() {
		if strings.HasPrefix(name, "data/") && !strings.Contains(name, "/.tmp-") {
			packBytes += size
		}
	}
	return copies, unused, packBytes
}

// snapshotBlobs returns the tree and content blobs of snapshot id.
func snapshotBlobs(t *testing.T, r *repo.Repository, id string) map[pack.ID]bool {
	t.Helper()
	ctx := context.Background()
	sn, err := r.FindSnapshot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[pack.ID]bool{}
	var walk func(pack.ID)
	walk = func(tree pack.ID) {
		blobs[tree] = true
		tr, err := r.LoadTree(ctx, tree)
		if err != nil {
			t.Fatalf("snapshot %s: %v", id[:8], err)
		}
		for _, n := range tr.Nodes {
			for _, c := range n.Content {
				blobs[c] = true
			}
			if n.Subtree != nil {
				walk(*n.Subtree)
			}
		}
	}
	walk(sn.Tree)
	return blobs
}
