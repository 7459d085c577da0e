package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRepairPacksHeaderCLI flips a byte in the header of the pack holding
// a snapshot's data: check fails and advises repair packs, a dry run
// changes nothing, repair packs salvages every blob, and afterwards check
// --read-data is clean and every snapshot restores byte for byte.
func TestRepairPacksHeaderCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	snap := c.backupStdin(data, "export.tsv")
	notes := []byte("a second snapshot, in other packs\n")
	other := c.backupStdin(notes, "notes.txt")
	b := c.dataBlob(snap, "export.tsv")
	flipByte(t, b.Path, -10) // in the sealed header, before its length

	out, cmds := c.checkAdvice()
	want := "strata repair packs " + b.Pack[:8]
	if !slices.Contains(cmds, want) || !strings.Contains(out, want) {
		t.Errorf("check does not advise %q: %q\n%s", want, cmds, out)
	}

	before := c.packs()
	out = c.ok("repair", "packs", "--read-data", "--dry-run")
	if !strings.Contains(out, "pack "+b.Pack[:8]+" is damaged") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("repair packs --dry-run:\n%s", out)
	}
	if after := c.packs(); len(after) != len(before) || after[b.Pack] == "" {
		t.Fatalf("the dry run changed the packs: %d before, %d after", len(before), len(after))
	}

	out = c.ok("repair", "packs", b.Pack[:8])
	if !strings.Contains(out, "pack "+b.Pack[:8]+" is damaged") || !strings.Contains(out, " 0 not\n") ||
		strings.Contains(out, "lost") {
		t.Errorf("repair packs:\n%s", out)
	}
	if _, ok := c.packs()[b.Pack]; ok {
		t.Errorf("the damaged pack %s is still stored", b.Pack[:8])
	}
	c.check()
	if got := c.ok("dump", snap[:8], "/export.tsv"); got != string(data) {
		t.Errorf("snapshot %s dumps %d bytes, want the %d backed up", snap[:8], len(got), len(data))
	}
	if got := c.ok("dump", other[:8], "/notes.txt"); got != string(notes) {
		t.Errorf("snapshot %s dumps %q", other[:8], got)
	}
	// Nothing is left to repair.
	if out := c.ok("repair", "packs", "--read-data"); !strings.Contains(out, "no damaged pack found") {
		t.Errorf("second repair packs:\n%s", out)
	}
}

// TestRepairPacksBlobCLI damages one blob in a pack whose header is
// intact: repair packs keeps the pack's other blobs, names the lost one,
// and repair snapshots then cuts it out, after which check is clean.
func TestRepairPacksBlobCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	snap := c.backupStdin(data, "export.tsv")
	b := c.dataBlob(snap, "export.tsv")
	var blobs []struct{ ID string }
	c.catJSON(&blobs, "pack-header", b.Pack)
	if len(blobs) < 2 {
		t.Fatalf("pack %s holds %d blobs, want several", b.Pack[:8], len(blobs))
	}
	damaged := headerEntryAt(t, c, b)
	flipByte(t, b.Path, b.Offset+b.Length/2)

	out, _ := c.code(exitCheckFailed, "check", "--read-data")
	if !strings.Contains(out, "strata repair packs "+b.Pack[:8]) {
		t.Errorf("check --read-data does not advise repair packs:\n%s", out)
	}

	out = c.ok("repair", "packs", b.Pack[:8])
	lostLine := "blob " + damaged.ID + ": lost"
	if !strings.Contains(out, lostLine) || !strings.Contains(out, " 1 not\n") ||
		!strings.Contains(out, "strata repair snapshots --forget") {
		t.Errorf("repair packs output lacks %q:\n%s", lostLine, out)
	}
	if _, ok := c.packs()[b.Pack]; ok {
		t.Errorf("the damaged pack %s is still stored", b.Pack[:8])
	}
	c.ok("repair", "snapshots", "--forget")
	c.check()
	sns := c.snapshots()
	if len(sns) != 1 || !slices.Contains(sns[0].Tags, "repaired") {
		t.Fatalf("snapshots after repair: %+v", sns)
	}
	got := c.ok("dump", sns[0].ID[:8], "/export.tsv")
	if len(got) != len(data)-int(damaged.RawLength) || !strings.Contains(string(data), got[len(got)-100:]) {
		t.Errorf("the repaired stream has %d bytes, want all but the lost chunk of the %d", len(got), len(data))
	}
}

// headerEntry is an entry of `cat pack-header`.
type headerEntry struct {
	ID        string
	Offset    int64
	Length    int64
	RawLength uint32 `json:"raw_length"`
}

// headerEntryAt returns the header entry of the blob that dataBlob found.
func headerEntryAt(t *testing.T, c *tcli, b blobInPack) headerEntry {
	t.Helper()
	for _, e := range packHeader(t, c, b.Pack) {
		if e.Offset == b.Offset {
			return e
		}
	}
	t.Fatalf("pack %s has no blob at offset %d", b.Pack[:8], b.Offset)
	return headerEntry{}
}

// TestTreeCopiesCLI destroys the pack holding a snapshot's root tree, by
// deleting it or by corrupting its copy of the tree: the snapshot still
// restores in full from the second copy, check reports the damage and
// advises repair packs, which writes the copy again, after which check is
// clean and no notice is left.
func TestTreeCopiesCLI(t *testing.T) {
	t.Parallel()
	fixture := newCLI(t)
	fixture.ok("init")
	data := sampleData(t)
	snap := fixture.backupStdin(data, "export.tsv")
	for _, damage := range []string{"deleted", "corrupted"} {
		t.Run(damage, func(t *testing.T) {
			c := fixture.clone(t)
			var sn struct{ Tree string }
			c.catJSON(&sn, "snapshot", snap)
			var holders []blobInPack
			for id, path := range c.packs() {
				for _, e := range packHeader(t, c, id) {
					if e.ID == sn.Tree {
						holders = append(holders, blobInPack{Pack: id, Path: path, Offset: e.Offset, Length: e.Length})
					}
				}
			}
			if len(holders) != 2 || holders[0].Pack == holders[1].Pack {
				t.Fatalf("root tree %s is in %d packs, want 2 different ones", sn.Tree[:8], len(holders))
			}
			h := holders[0]
			if damage == "deleted" {
				if err := os.Remove(h.Path); err != nil {
					t.Fatal(err)
				}
			} else {
				flipByte(t, h.Path, h.Offset+h.Length/2)
			}

			target := filepath.Join(t.TempDir(), "restore")
			c.ok("restore", snap[:8], "--target", target)
			if got := readFile(t, filepath.Join(target, "export.tsv")); !bytes.Equal(got, data) {
				t.Errorf("the restore has %d bytes, want the %d backed up", len(got), len(data))
			}

			out, cmds := c.checkAdvice()
			if !strings.Contains(out, h.Pack) || !strings.Contains(out, "one intact copy") {
				t.Errorf("check does not report pack %s and the tree left with one copy:\n%s", h.Pack[:8], out)
			}
			repairCmd := "strata repair packs"
			if damage == "corrupted" {
				repairCmd += " " + h.Pack[:8]
			}
			if !slices.Contains(cmds, repairCmd) || slices.Contains(cmds, "strata repair snapshots --forget") {
				t.Errorf("check advises %q, want %q and no repair snapshots", cmds, repairCmd)
			}
			for _, cmd := range cmds {
				if cmd != "" {
					c.ok(strings.Fields(cmd)[1:]...)
				}
			}
			c.check()
			if out := c.ok("check"); strings.Contains(out, "notice") || strings.Contains(out, "What to do") {
				t.Errorf("check after the repair:\n%s", out)
			}
			n := 0
			for id := range c.packs() {
				for _, e := range packHeader(t, c, id) {
					if e.ID == sn.Tree {
						n++
					}
				}
			}
			if n != 2 {
				t.Errorf("after the repair the root tree is in %d packs, want 2", n)
			}
			if got := c.ok("dump", snap[:8], "/export.tsv"); got != string(data) {
				t.Errorf("dump after the repair: %d bytes, want %d", len(got), len(data))
			}
		})
	}
}

// packHeader returns the entries of `cat pack-header ID`.
func packHeader(t *testing.T, c *tcli, id string) []headerEntry {
	t.Helper()
	var entries []headerEntry
	c.catJSON(&entries, "pack-header", id)
	return entries
}
