package repair_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/repair"
	"strata/repo/repotest"
)

func repairSnapshots(t *testing.T, f *fixture, opts repair.SnapshotsOptions) *repair.SnapshotsReport {
	t.Helper()
	rep, err := repair.Snapshots(context.Background(), f.open(t), opts)
	if err != nil {
		t.Fatalf("repair snapshots: %v", err)
	}
	return rep
}

// losses maps each damaged snapshot's original ID to "path: text" lines.
func losses(rep *repair.SnapshotsReport) map[pack.ID][]string {
	out := map[pack.ID][]string{}
	for _, sr := range rep.Damaged {
		var lines []string
		for _, l := range sr.Losses {
			lines = append(lines, l.Path+": "+l.Text)
		}
		out[sr.Original.ID] = lines
	}
	return out
}

// TestSnapshotsLostPack removes a data pack, rebuilds the index, and
// repairs the snapshots with Forget: the repaired snapshots keep what is
// intact, say what was lost, restore, and check (at cleanup) finds the
// repository clean.
func TestSnapshotsLostPack(t *testing.T) {
	f := newFixture(t, mem.New())
	f.remove(t, backend.PackFile, f.pB) // a3, t3, s1; d1 is a delta on a3
	repairIndex(t, f, repair.IndexOptions{})

	rep := repairSnapshots(t, f, repair.SnapshotsOptions{Forget: true})
	want := map[pack.ID][]string{
		f.s1ID: {
			"/dump.sql: 1 of 1 chunks missing, 900 B",
			"/srv/a.bin: 1 of 3 chunks missing, 1000 B",
			`/srv/db.t: 1 of 3 chunks missing, 50 rows, 700 B; first keys of the lost chunks: "200"`,
		},
		f.s2ID: {"/c.bin: 1 of 1 chunks missing, 1000 B"},
	}
	got := losses(rep)
	for id, lines := range want {
		if !slices.Equal(got[id], lines) {
			t.Errorf("snapshot %s lost:\n%s\nwant:\n%s", id.Short(), strings.Join(got[id], "\n"), strings.Join(lines, "\n"))
		}
	}
	if len(got) != 2 || rep.Snapshots != 3 {
		t.Errorf("%d of %d snapshots damaged, want 2 of 3: %v", len(got), rep.Snapshots, got)
	}

	repaired := map[pack.ID]pack.ID{}
	for _, sr := range rep.Damaged {
		if sr.Repaired == nil || !sr.Forgotten || sr.Protected {
			t.Fatalf("snapshot %s: repaired %v, forgotten %v, protected %v", sr.Original.ID.Short(), sr.Repaired, sr.Forgotten, sr.Protected)
		}
		repaired[sr.Original.ID] = sr.Repaired.ID
		r := f.open(t)
		sn, err := r.LoadSnapshot(context.Background(), sr.Repaired.ID)
		if err != nil {
			t.Fatal(err)
		}
		o := sr.Original
		if !sn.Time.Equal(o.Time) || sn.Host != o.Host || sn.Source != o.Source || sn.Tier != o.Tier ||
			!slices.Equal(sn.Tags, []string{"nightly", "repaired"}) || !slices.Equal(sn.Paths, o.Paths) {
			t.Errorf("repaired snapshot %+v does not keep the original's %+v", sn, o)
		}
		if sn.Meta[repair.MetaRepairedFrom] != o.ID.String() || !strings.Contains(sn.Meta[repair.MetaLost], "lost data") {
			t.Errorf("repaired snapshot meta %v", sn.Meta)
		}
		f.restores(t, sn.ID)
	}
	if got := f.files(t, backend.SnapshotFile); !slices.Equal(got, sorted([]pack.ID{f.s3ID, repaired[f.s1ID], repaired[f.s2ID]})) {
		t.Errorf("snapshots after repair %v, want S3 and the two repaired ones", got)
	}

	s1 := repaired[f.s1ID]
	if got := f.dump(t, s1, "/srv/a.bin"); !bytes.Equal(got, f.concat(f.a1, f.a2)) {
		t.Errorf("/srv/a.bin has %d bytes, want the %d of a1 and a2", len(got), len(f.concat(f.a1, f.a2)))
	}
	if got := f.dump(t, s1, "/srv/db.t"); !bytes.Equal(got, f.concat(f.t1, f.t2)) {
		t.Errorf("/srv/db.t has %d bytes, want the %d of t1 and t2", len(got), len(f.concat(f.t1, f.t2)))
	}
	table := f.node(t, s1, "/srv/db.t")
	var def struct{ Rows int64 }
	if err := json.Unmarshal([]byte(table.Meta[repo.TableMetaTable]), &def); err != nil {
		t.Fatal(err)
	}
	if table.Meta[repo.TableMetaRows] != "199" || def.Rows != 199 || len(table.Chunks) != 2 || table.Chunks[1].FirstKey != "100" {
		t.Errorf("table node after repair: rows %q, definition rows %d, chunks %+v; want 199, 199 and the first two",
			table.Meta[repo.TableMetaRows], def.Rows, table.Chunks)
	}
	if n := f.node(t, s1, "/dump.sql"); n.Size != 0 || len(n.Content) != 0 || n.Meta[repair.MetaLost] == "" {
		t.Errorf("/dump.sql after repair: %+v, want no content and a lost note", n)
	}
	if got := f.dump(t, repaired[f.s2ID], "/x.bin"); !bytes.Equal(got, f.concat(f.x1, f.a1)) {
		t.Error("/x.bin of S2 changed")
	}
}

// TestSnapshotsLostFolder removes the pack holding only the tree of S3's
// /deep: the folder becomes empty, with a note. The originals stay without
// Forget; a second run finds them repaired already, and a run with Forget
// removes them.
func TestSnapshotsLostFolder(t *testing.T) {
	f := newFixture(t, mem.New())
	f.removeTrees(t, f.pDeep)
	repairIndex(t, f, repair.IndexOptions{})

	rep := repairSnapshots(t, f, repair.SnapshotsOptions{})
	want := []string{"/deep: folder lost: tree blob " + f.node(t, f.s3ID, "/deep").Subtree.Short() + " cannot be loaded"}
	if got := losses(rep); len(got) != 1 || !slices.Equal(got[f.s3ID], want) {
		t.Fatalf("losses %v, want S3 %v", got, want)
	}
	repaired := rep.Damaged[0].Repaired
	if repaired == nil || rep.Damaged[0].Forgotten {
		t.Fatalf("repaired %v, forgotten %v; want a repaired snapshot and the original kept", repaired, rep.Damaged[0].Forgotten)
	}
	deep := f.node(t, repaired.ID, "/deep")
	if deep.Kind != repo.NodeDir || !strings.HasPrefix(deep.Meta[repair.MetaLost], "folder lost") || deep.Mode != 0o700 {
		t.Errorf("/deep after repair: %+v", deep)
	}
	f.restores(t, repaired.ID)

	rep = repairSnapshots(t, f, repair.SnapshotsOptions{})
	if len(rep.Damaged) != 1 || rep.Damaged[0].RepairedBefore != repaired.ID || rep.Damaged[0].Repaired != nil {
		t.Fatalf("second run: %+v, want the original found repaired before as %s", rep.Damaged, repaired.ID.Short())
	}
	rep = repairSnapshots(t, f, repair.SnapshotsOptions{Forget: true})
	if len(rep.Damaged) != 1 || !rep.Damaged[0].Forgotten || rep.Damaged[0].Repaired != nil {
		t.Fatalf("run with Forget: %+v, want the original removed and nothing new", rep.Damaged[0])
	}
	if n := len(f.files(t, backend.SnapshotFile)); n != 3 {
		t.Errorf("%d snapshots left, want 3", n)
	}
}

// TestSnapshotsRootLost: a snapshot whose root tree is gone has nothing
// left; Forget removes it unless it is protected.
func TestSnapshotsRootLost(t *testing.T) {
	f := newFixture(t, mem.New())
	f.removeTrees(t, f.pRoots) // both copies of the roots of S1 and S2
	repairIndex(t, f, repair.IndexOptions{})
	rep := repairSnapshots(t, f, repair.SnapshotsOptions{Forget: true, Protected: func(id pack.ID) bool { return id == f.s2ID }})
	if len(rep.Damaged) != 2 {
		t.Fatalf("%d damaged snapshots, want S1 and S2", len(rep.Damaged))
	}
	for _, sr := range rep.Damaged {
		protected := sr.Original.ID == f.s2ID
		if !sr.RootLost || sr.Repaired != nil || sr.Forgotten == protected || sr.Protected != protected {
			t.Errorf("snapshot %s: %+v", sr.Original.ID.Short(), sr)
		}
	}
	if got := f.files(t, backend.SnapshotFile); !slices.Equal(got, sorted([]pack.ID{f.s2ID, f.s3ID})) {
		t.Errorf("snapshots left %v, want the protected S2 and S3", got)
	}
	// S2 stays damaged on purpose; forget it so check at cleanup passes.
	if err := f.open(t).RemoveSnapshot(context.Background(), f.s2ID); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotsDryRun plans and reports, and changes nothing.
func TestSnapshotsDryRun(t *testing.T) {
	repotest.SkipCheck(t)
	f := newFixture(t, mem.New())
	f.remove(t, backend.PackFile, f.pB)
	repairIndex(t, f, repair.IndexOptions{})
	before := map[backend.FileType][]pack.ID{}
	for _, typ := range []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile} {
		before[typ] = f.files(t, typ)
	}
	rep := repairSnapshots(t, f, repair.SnapshotsOptions{DryRun: true, Forget: true})
	if got := losses(rep); len(got[f.s1ID]) != 3 || len(got[f.s2ID]) != 1 {
		t.Errorf("dry run reports %v, want 3 losses in S1 and 1 in S2", got)
	}
	for _, sr := range rep.Damaged {
		if sr.Repaired != nil || sr.Forgotten {
			t.Errorf("dry run wrote or removed: %+v", sr)
		}
	}
	for typ, ids := range before {
		if got := f.files(t, typ); !slices.Equal(got, ids) {
			t.Errorf("dry run changed %s: %v, was %v", typ, got, ids)
		}
	}
}

// TestSnapshotsNeedsCompleteIndex: blobs that repair index can bring back
// must not be dropped, so Snapshots writes nothing before the index is
// complete; a dry run says why.
func TestSnapshotsNeedsCompleteIndex(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		want   string
	}{
		{"index file deleted", func(t *testing.T, f *fixture) {
			f.remove(t, backend.IndexFile, f.indexFileOf(t, f.pB))
		}, "in packs no index file names"},
		{"index file damaged", func(t *testing.T, f *fixture) {
			f.flip(t, backend.IndexFile, f.indexFileOf(t, f.pB), 60)
		}, "cannot be read"},
		{"pack gone, index not rebuilt", func(t *testing.T, f *fixture) {
			f.remove(t, backend.PackFile, f.pB)
		}, "packs the index names are not stored"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repotest.SkipCheck(t)
			f := newFixture(t, mem.New())
			tc.damage(t, f)
			snaps := f.files(t, backend.SnapshotFile)
			_, err := repair.Snapshots(context.Background(), f.open(t), repair.SnapshotsOptions{Forget: true})
			if !errors.Is(err, repair.ErrIndexIncomplete) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "strata repair index") {
				t.Errorf("error %v, want ErrIndexIncomplete saying %q", err, tc.want)
			}
			if got := f.files(t, backend.SnapshotFile); !slices.Equal(got, snaps) {
				t.Errorf("snapshots changed: %v, were %v", got, snaps)
			}
			rep := repairSnapshots(t, f, repair.SnapshotsOptions{DryRun: true})
			if len(rep.IndexProblems) == 0 || len(rep.Damaged) == 0 {
				t.Errorf("dry run: index problems %v, %d damaged snapshots", rep.IndexProblems, len(rep.Damaged))
			}
		})
	}
}

// TestSnapshotsReadData damages the bytes of blob a1 in its pack, which
// the index still lists: only ReadData finds the loss.
func TestSnapshotsReadData(t *testing.T) {
	repotest.SkipCheck(t)
	f := newFixture(t, mem.New())
	r := repotest.Reopen(t, f.be)
	loc, _ := r.Index().Lookup(f.a1)
	f.flip(t, backend.PackFile, f.pA, int(loc.Offset)+int(loc.Length)/2)

	if rep := repairSnapshots(t, f, repair.SnapshotsOptions{DryRun: true}); len(rep.Damaged) != 0 {
		t.Errorf("without ReadData %d snapshots are damaged, want none found", len(rep.Damaged))
	}
	rep := repairSnapshots(t, f, repair.SnapshotsOptions{ReadData: true})
	want := map[pack.ID][]string{
		f.s1ID: {"/srv/a.bin: 1 of 3 chunks missing, 2.9 KiB"},
		f.s2ID: {"/x.bin: 1 of 2 chunks missing, 2.9 KiB"},
	}
	got := losses(rep)
	for id, lines := range want {
		if !slices.Equal(got[id], lines) {
			t.Errorf("snapshot %s lost %v, want %v", id.Short(), got[id], lines)
		}
	}
	for _, sr := range rep.Damaged {
		f.restores(t, sr.Repaired.ID)
	}
}
