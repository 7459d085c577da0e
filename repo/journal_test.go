package repo_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// journalSnapshot saves a snapshot of one empty tree.
func journalSnapshot(t *testing.T, r *repo.Repository, hour int) pack.ID {
	t.Helper()
	ctx := context.Background()
	tree, err := r.SaveTree(ctx, &repo.Tree{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &repo.Snapshot{Time: time.Date(2026, 12, 1, hour, 0, 0, 0, time.UTC), Host: "h", Source: "stdin:x", Paths: []string{"/x"}, Tree: tree}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	return sn.ID
}

func loadJournal(t *testing.T, r *repo.Repository) *repo.Journal {
	t.Helper()
	j, err := r.LoadJournal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func live(j *repo.Journal, t backend.FileType, id pack.ID) bool {
	_, ok := j.Live[repo.JournalKey{Kind: t, ID: id}]
	return ok
}

// TestJournalRecordsWritesAndRemovals: init starts the journal with the
// key file; every save and removal through the handle is recorded, a
// protect file with the snapshot it names; compaction leaves one base
// file recording the same, and removes the older files.
func TestJournalRecordsWritesAndRemovals(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	j := loadJournal(t, r)
	key, _ := pack.ParseID(r.KeyName())
	if !j.Started || len(j.Files) != 1 || !live(j, backend.KeyFile, key) {
		t.Fatalf("after init: started %v, %d files, key recorded %v", j.Started, len(j.Files), live(j, backend.KeyFile, key))
	}
	s1, s2 := journalSnapshot(t, r, 1), journalSnapshot(t, r, 2)
	prot, err := r.Protect(ctx, s1, time.Time{}, "audit")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveSnapshot(ctx, s2); err != nil {
		t.Fatal(err)
	}
	j = loadJournal(t, r)
	if !live(j, backend.SnapshotFile, s1) || live(j, backend.SnapshotFile, s2) || !j.Recorded[repo.JournalKey{Kind: backend.SnapshotFile, ID: s2}] {
		t.Errorf("snapshots: s1 live %v, s2 live %v (removed), s2 recorded %v", live(j, backend.SnapshotFile, s1),
			live(j, backend.SnapshotFile, s2), j.Recorded[repo.JournalKey{Kind: backend.SnapshotFile, ID: s2}])
	}
	rec := j.Live[repo.JournalKey{Kind: backend.ProtectFile, ID: prot.ID}]
	if rec.Snapshot == nil || *rec.Snapshot != s1 {
		t.Errorf("protect record %+v does not name snapshot %s", rec, s1.Short())
	}
	if len(j.Gaps) > 0 || !j.Healthy() {
		t.Errorf("gaps %v, healthy %v", j.Gaps, j.Healthy())
	}
	before := j.Live

	res, err := r.CompactJournal(ctx, repo.CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j = loadJournal(t, r)
	if len(j.Files) != 1 || !j.Files[0].File.Base || res.Replaced == 0 {
		t.Fatalf("after compaction: %d files (want one base file), %d replaced", len(j.Files), res.Replaced)
	}
	if !mapsEqualKeys(before, j.Live) {
		t.Errorf("compaction changed the live set: %v, want %v", j.Live, before)
	}
	// Compact already: nothing is written.
	if res, err := r.CompactJournal(ctx, repo.CompactOptions{}); err != nil || res.Base != j.Files[0].Name {
		t.Errorf("second compaction: %+v, %v", res, err)
	}
}

func mapsEqualKeys(a, b map[repo.JournalKey]repo.JournalRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// TestJournalCompactionKeepsLossesAndAdoptsStrays: a file deleted behind
// the journal's back stays recorded through a compaction (so check goes
// on naming it) unless its kind is accepted as lost; a file stored
// without a record is adopted.
func TestJournalCompactionKeepsLossesAndAdoptsStrays(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	repotest.SkipCheck(t) // a deleted snapshot is left on purpose
	s1 := journalSnapshot(t, r, 1)
	s2 := journalSnapshot(t, r, 2)
	if err := be.Remove(ctx, backend.Handle{Type: backend.SnapshotFile, Name: s1.String()}); err != nil {
		t.Fatal(err)
	}
	// A copy of s2's file under a name of its own, stored behind the
	// handle's back: a stray file.
	data, err := be.Load(ctx, backend.Handle{Type: backend.SnapshotFile, Name: s2.String()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	stray := pack.ID{0xaa}
	if err := be.Save(ctx, backend.Handle{Type: backend.SnapshotFile, Name: stray.String()}, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	res, err := r.CompactJournal(ctx, repo.CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []repo.JournalKey{{Kind: backend.SnapshotFile, ID: s1}}
	if !slices.Equal(res.Missing, want) || len(res.Adopted) != 1 || res.Adopted[0].ID != stray {
		t.Errorf("compaction: missing %v (want %v), adopted %v (want %s)", res.Missing, want, res.Adopted, stray.Short())
	}
	if j := loadJournal(t, r); !live(j, backend.SnapshotFile, s1) || !live(j, backend.SnapshotFile, stray) {
		t.Errorf("the base file lost s1 (live %v) or the stray (live %v)", live(j, backend.SnapshotFile, s1), live(j, backend.SnapshotFile, stray))
	}
	res, err = r.CompactJournal(ctx, repo.CompactOptions{AcceptLoss: repo.JournalKinds, Repair: true})
	if err != nil || !slices.Equal(res.Lost, want) {
		t.Fatalf("repair: lost %v (want %v), %v", res.Lost, want, err)
	}
	if j := loadJournal(t, r); live(j, backend.SnapshotFile, s1) {
		t.Error("s1 is still recorded after its loss was accepted")
	}
}

// TestJournalGapsAndDamage: a deleted journal file between the base and
// the newest is a gap; a damaged one is named; neither is compacted away
// except by a repair; a deleted base in a repository of version 2 leaves
// the journal unstarted.
func TestJournalGapsAndDamage(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	repotest.SkipCheck(t)
	for i := range 3 {
		journalSnapshot(t, r, i)
	}
	j := loadJournal(t, r)
	if len(j.Files) < 4 {
		t.Fatalf("%d journal files, want the base and one per snapshot at least", len(j.Files))
	}
	mid := j.Files[2]
	if err := be.Remove(ctx, backend.Handle{Type: backend.JournalFile, Name: mid.Name}); err != nil {
		t.Fatal(err)
	}
	j = loadJournal(t, r)
	if !slices.Equal(j.Gaps, []uint64{mid.Seq}) || j.Healthy() {
		t.Errorf("gaps %v, want [%d]; healthy %v", j.Gaps, mid.Seq, j.Healthy())
	}
	if res, err := r.CompactJournal(ctx, repo.CompactOptions{}); err != nil || res.Skipped == "" {
		t.Errorf("compaction of a journal with a gap: %+v, %v; want it skipped", res, err)
	}
	// Damage the newest file: it is named, and its records are lost.
	last := j.Files[len(j.Files)-1]
	h := backend.Handle{Type: backend.JournalFile, Name: last.Name}
	data, _ := be.Load(ctx, h, 0, 0)
	data[len(data)/2] ^= 1
	if err := be.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := be.Save(ctx, h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	j = loadJournal(t, r)
	if f := j.Files[len(j.Files)-1]; f.Err == nil || f.File != nil {
		t.Errorf("damaged journal file read as %+v", f)
	}
	res, err := r.CompactJournal(ctx, repo.CompactOptions{Repair: true, AcceptLoss: repo.JournalKinds})
	if err != nil {
		t.Fatal(err)
	}
	j = loadJournal(t, r)
	if len(j.Files) != 1 || !j.Healthy() || len(res.Adopted) == 0 {
		t.Errorf("after repair: %d files, healthy %v, %d adopted", len(j.Files), j.Healthy(), len(res.Adopted))
	}
	// The base deleted: a version 2 repository has lost its journal.
	if err := be.Remove(ctx, backend.Handle{Type: backend.JournalFile, Name: j.Files[0].Name}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.CompactJournal(ctx, repo.CompactOptions{}); err != nil || res.Skipped == "" {
		t.Errorf("compaction without a base in a version 2 repository: %+v, %v; want it skipped", res, err)
	}
}

// TestJournalStartedInOldRepository: a repository of version 1 (made
// before the journal) whose writers recorded nothing has no journal
// until a compaction starts it, adopting every file.
func TestJournalStartedInOldRepository(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t, func(c *repo.Config, _ *repo.Options) { c.Version = 1 })
	s1 := journalSnapshot(t, r, 1)
	j := loadJournal(t, r)
	for _, f := range j.Files {
		if err := be.Remove(ctx, backend.Handle{Type: backend.JournalFile, Name: f.Name}); err != nil {
			t.Fatal(err)
		}
	}
	r = repotest.Reopen(t, be)
	if r.Config().Version != 1 {
		t.Fatalf("version %d", r.Config().Version)
	}
	if j := loadJournal(t, r); j.Started {
		t.Fatal("journal started with no files")
	}
	res, err := r.CompactJournal(ctx, repo.CompactOptions{})
	if err != nil || res.Skipped != "" {
		t.Fatalf("starting the journal: %+v, %v", res, err)
	}
	j = loadJournal(t, r)
	key, _ := pack.ParseID(r.KeyName())
	if !j.Started || !live(j, backend.SnapshotFile, s1) || !live(j, backend.KeyFile, key) {
		t.Errorf("started %v, snapshot recorded %v, key recorded %v", j.Started, live(j, backend.SnapshotFile, s1), live(j, backend.KeyFile, key))
	}
}

// TestJournalNamesAndRecords pins the byte layout of docs/design.md, "The
// journal": the name, the JSON, and what the decoder refuses.
func TestJournalNamesAndRecords(t *testing.T) {
	id := pack.ID{0x0a, 0x1b}
	snap := pack.ID{0x1a}
	jf := &repo.JournalFile{Seq: 0x2a, Time: time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC), Records: []repo.JournalRecord{
		{Op: repo.JournalAdd, Kind: backend.ProtectFile, ID: id, Snapshot: &snap},
		{Op: repo.JournalRemove, Kind: backend.IndexFile, ID: id},
	}}
	b, err := repo.EncodeJournalFile(jf)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":42,"time":"2026-12-06T22:00:00Z","records":[{"op":"add","kind":"protect","id":"` + id.String() +
		`","snapshot":"` + snap.String() + `"},{"op":"remove","kind":"index","id":"` + id.String() + `"}]}`
	if string(b) != want {
		t.Errorf("encoded\n%s\nwant\n%s", b, want)
	}
	seq, fid, err := repo.ParseJournalName("000000000000002a-" + id.String())
	if err != nil || seq != 42 || fid != id {
		t.Errorf("ParseJournalName: %d %s %v", seq, fid, err)
	}
	for _, bad := range []string{
		`{"seq":0,"time":"2026-12-06T22:00:00Z","records":[]}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z"}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z","records":[],"extra":1}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z","base":true,"records":[{"op":"remove","kind":"index","id":"` + id.String() + `"}]}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z","records":[{"op":"add","kind":"data","id":"` + id.String() + `"}]}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z","records":[{"op":"add","kind":"index","id":"` + id.String() + `","snapshot":"` + snap.String() + `"}]}`,
		`{"seq":1,"time":"2026-12-06T22:00:00Z","records":[]} {}`,
	} {
		if _, err := repo.DecodeJournalFile([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	for _, bad := range []string{"2a-" + id.String(), "000000000000002A-" + id.String(), "000000000000002a" + id.String()} {
		if _, _, err := repo.ParseJournalName(bad); err == nil {
			t.Errorf("ParseJournalName accepted %q", bad)
		}
	}
	var back repo.JournalFile
	if err := json.Unmarshal(b, &back); err != nil || back.Seq != 42 {
		t.Errorf("%+v %v", back, err)
	}
}
