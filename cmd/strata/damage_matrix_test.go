package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDamageMatrix damages every kind of repository file in every way
// (bytes flipped at its start, middle and end and in a pack's header,
// truncated, emptied, deleted, swapped with another file of its kind),
// one case at a time on a copy of one repository, and runs the real
// binary on it as a user would: `check --read-data`, a restore of every
// snapshot, the repairs check's "What to do" names, check again and a
// restore of every snapshot again. Restored files, streams and table rows
// are compared with the originals. It prints a table per file kind:
// cases, damage detected, attributed to the right file and snapshot,
// recovered, and what was lost (docs/design.md, "The damage matrix").
//
// Every case must keep the invariants: no command panics, no restore or
// dump exits 0 with bytes or rows that differ from the original (unless
// it restores a snapshot that repair marked as having lost data), a
// failed file restore leaves no file under its name, and the damage is
// detected (the journal records which snapshot, key, policy, protect and
// index files exist, so their deletion is too). Attribution and recovery
// are figures in the table.
// (TestDamagedFiles pins the exact messages and exit codes of each
// command for a few damages; the matrix covers the breadth.)
//
// By default a fifth of the cases run, in well under a minute
// (`make test-damage-short`, part of `make test`; skipped under -race);
// STRATA_DAMAGE=full runs them all (`make test-damage`),
// STRATA_DAMAGE_TABLE=FILE writes the table there, and
// STRATA_DAMAGE_LOGS=DIR every case's commands and their output.
func TestDamageMatrix(t *testing.T) {
	full := os.Getenv("STRATA_DAMAGE") == "full"
	if raceDetector && !full {
		// The work is done by the binary, which -race does not
		// instrument, while reading SQLite rows in the test takes
		// minutes under it. `make test` runs the matrix without -race.
		t.Skip("skipping under -race: make test-damage-short runs the matrix")
	}
	f := newDamFixture(t)

	t.Run("control", func(t *testing.T) {
		res := f.runCase(t, damCase{kind: damKinds[0], damage: damNone})
		if !res.clean || res.restored != res.units {
			t.Errorf("the undamaged repository: check clean %v, %d of %d units restored\n%s", res.clean, res.restored, res.units, res.log)
		}
	})
	var cases []damCase
	for i, k := range damKinds {
		for j, d := range damages {
			if (d.packOnly && !k.pack) || (d.swap && k.partner == nil) {
				continue
			}
			if full || (i+j)%5 == 0 {
				cases = append(cases, damCase{kind: k, damage: d})
			}
		}
	}
	results := make([]*damResult, len(cases))
	t.Run("cases", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.kind.name+"/"+c.damage.name, func(t *testing.T) {
				t.Parallel()
				res := f.runCase(t, c)
				results[i] = res
				for _, v := range res.violations {
					t.Errorf("%s", v)
				}
				if c.kind.mustDetect && !res.harmless && !res.detected {
					t.Errorf("check did not detect the damage")
				}
				if t.Failed() {
					t.Logf("what ran:\n%s", res.log)
				}
				if dir := os.Getenv("STRATA_DAMAGE_LOGS"); dir != "" {
					name := strings.NewReplacer(" ", "-", "(", "", ")", "", "/", "_").Replace(c.kind.name + "_" + c.damage.name)
					if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(res.log), 0o644); err != nil {
						t.Error(err)
					}
				}
			})
		}
	})
	table := damTable(results, full)
	t.Logf("damage matrix (%d cases):\n%s", len(cases), table)
	if p := os.Getenv("STRATA_DAMAGE_TABLE"); p != "" {
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// damKind is a kind of repository file: the file the matrix damages and
// the one it swaps it with, as paths relative to the repository.
type damKind struct {
	name       string
	pack       bool // a pack: the "pack header" flip applies
	mustDetect bool // check (or, for locks, policy and protections, the commands that read them) must see any damage
	target     func(f *damFixture) string
	partner    func(f *damFixture) string // nil: no second file to swap with
}

var damKinds = []damKind{
	{name: "pack (data)", pack: true, mustDetect: true, target: func(f *damFixture) string { return f.dataPack(true) }, partner: func(f *damFixture) string { return f.dataPack(false) }},
	{name: "pack (trees)", pack: true, mustDetect: true, target: func(f *damFixture) string { return f.packOf(f.snaps[2].tree) }, partner: func(f *damFixture) string { return f.dataPack(true) }},
	{name: "index", mustDetect: true, target: func(f *damFixture) string { return f.nth("index", 0) }, partner: func(f *damFixture) string { return f.nth("index", 1) }},
	{name: "snapshot", mustDetect: true, target: func(f *damFixture) string { return "snapshots/" + f.snaps[2].id }, partner: func(f *damFixture) string { return "snapshots/" + f.snaps[1].id }},
	{name: "key (in use)", mustDetect: true, target: func(f *damFixture) string { return "keys/" + f.keyUsed }, partner: func(f *damFixture) string { return "keys/" + f.keyOther }},
	{name: "key (other)", mustDetect: true, target: func(f *damFixture) string { return "keys/" + f.keyOther }},
	{name: "config", mustDetect: true, target: func(*damFixture) string { return "config" }},
	{name: "lock", mustDetect: true, target: func(f *damFixture) string { return f.nth("locks", 0) }, partner: func(f *damFixture) string { return f.nth("locks", 1) }},
	{name: "policy", mustDetect: true, target: func(f *damFixture) string { return f.nth("policy", 0) }},
	{name: "protect", mustDetect: true, target: func(f *damFixture) string { return f.nth("protect", 0) }, partner: func(f *damFixture) string { return f.nth("protect", 1) }},
	// The journal's first file (its base, written by init) and the next.
	{name: "journal", mustDetect: true, target: func(f *damFixture) string { return f.nth("journal", 0) }, partner: func(f *damFixture) string { return f.nth("journal", 1) }},
	// An audit record in the middle of the trail (the second), which the
	// third names as its predecessor, and that third.
	{name: "audit", mustDetect: true, target: func(f *damFixture) string { return f.nth("audit", 1) }, partner: func(f *damFixture) string { return f.nth("audit", 2) }},
}

// damage is one way to damage a file. apply returns the byte range
// [lo, hi) whose contents are gone, {-1, -1} for all of it, or nil when
// the bytes survive (a swap).
type damage struct {
	name     string
	packOnly bool
	swap     bool
	apply    func(t *testing.T, f *damFixture, path, partner string) *[2]int64
}

var damNone = damage{name: "none", apply: func(*testing.T, *damFixture, string, string) *[2]int64 { return nil }}

var damages = []damage{
	{name: "flip first byte", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 { return flipAt(t, p, 0) }},
	{name: "flip middle byte", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 { return flipAt(t, p, fileSize(t, p)/2) }},
	{name: "flip last byte", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 { return flipAt(t, p, fileSize(t, p)-1) }},
	{name: "flip pack header", packOnly: true, apply: func(t *testing.T, f *damFixture, p, _ string) *[2]int64 {
		return flipAt(t, p, (f.blobsEnd(filepath.Base(p))+fileSize(t, p)-4)/2)
	}},
	{name: "truncate to half", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 {
		n := fileSize(t, p)
		truncateHalf(t, p)
		return &[2]int64{n / 2, n}
	}},
	{name: "empty", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 {
		writeFile(t, p, nil)
		return &[2]int64{-1, -1}
	}},
	{name: "delete", apply: func(t *testing.T, _ *damFixture, p, _ string) *[2]int64 {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		return &[2]int64{-1, -1}
	}},
	{name: "swap", swap: true, apply: func(t *testing.T, _ *damFixture, p, q string) *[2]int64 {
		a, b := readFile(t, p), readFile(t, q)
		writeFile(t, p, b)
		writeFile(t, q, a)
		return nil
	}},
}

func flipAt(t *testing.T, path string, off int64) *[2]int64 {
	flipByte(t, path, off)
	return &[2]int64{off, off + 1}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// dataPack returns the pack holding the first chunk of the first table
// snapshot's customers table (first), or the one holding the stream's
// first chunk: chosen by what they hold, since pack and blob IDs differ
// from one fixture to the next.
func (f *damFixture) dataPack(first bool) string {
	if first {
		return f.packOf(f.snaps[2].units[0].first)
	}
	return f.packOf(f.snaps[1].units[0].first)
}

// packOf returns the first pack holding blob.
func (f *damFixture) packOf(blob string) string {
	return f.packPath(f.copies[blob][0].pack)
}

func (f *damFixture) packPath(id string) string {
	rel, _ := filepath.Rel(f.repo, f.packs[id])
	return rel
}

// blobsEnd is where the blobs of pack id end and its header begins.
func (f *damFixture) blobsEnd(id string) int64 {
	var end int64
	for _, cps := range f.copies {
		for _, cp := range cps {
			if cp.pack == id {
				end = max(end, cp.off+cp.length)
			}
		}
	}
	return end
}

// nth returns the i-th file of folder, by name.
func (f *damFixture) nth(folder string, i int) string {
	es, _ := os.ReadDir(filepath.Join(f.repo, folder))
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if i >= len(names) {
		return folder + "/(none)"
	}
	return folder + "/" + names[i]
}
