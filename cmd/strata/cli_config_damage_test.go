package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/repo/crypto"
)

// TestDamagedConfigUsesKeyCopy damages the file config in each way the
// damage matrix does: the readers open the repository with the copy of
// the config in the key file, saying so; check fails naming the config
// and advising `strata repair config`, which writes the config back byte
// for byte; then check --read-data is clean and backups work again.
func TestDamagedConfigUsesKeyCopy(t *testing.T) {
	t.Parallel()
	fixture := newCLI(t)
	fixture.ok("init")
	fixture.backupStdin(sampleData(t), "export.tsv")
	original := readFile(t, filepath.Join(fixture.repo, "config"))

	damages := []struct {
		name string
		do   func(t *testing.T, path string)
	}{
		{"flipped byte", func(t *testing.T, p string) { flipByte(t, p, int64(len(original)/2)) }},
		{"truncated to half", truncateHalf},
		{"emptied", func(t *testing.T, p string) { writeFile(t, p, nil) }},
		{"deleted", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, dm := range damages {
		t.Run(dm.name, func(t *testing.T) {
			c := fixture.clone(t)
			cfgPath := filepath.Join(c.repo, "config")
			dm.do(t, cfgPath)

			for _, args := range [][]string{{"snapshots"}, {"ls", "latest"}} {
				_, errOut := c.code(0, args...)
				if !strings.Contains(errOut, "config at ") || !strings.Contains(errOut, "is damaged") || !strings.Contains(errOut, "strata repair config") {
					t.Errorf("%s: stderr %q, want a notice naming the damaged config and `strata repair config`", args[0], errOut)
				}
			}
			if out, _ := c.code(0, "dump", "latest", "/export.tsv"); out != string(sampleData(t)) {
				t.Errorf("dump wrote %d bytes, want the %d backed up", len(out), len(sampleData(t)))
			}
			target := filepath.Join(t.TempDir(), "restore")
			c.code(0, "restore", "latest", "--target", target)
			if !bytes.Equal(readFile(t, filepath.Join(target, "export.tsv")), sampleData(t)) {
				t.Errorf("restore did not restore the stream")
			}

			out, cmds := c.checkAdvice()
			if !strings.Contains(out, "config at ") || !strings.Contains(out, "is damaged") {
				t.Errorf("check does not name the damaged config:\n%s", out)
			}
			if !slices.Equal(cmds, []string{"strata repair config"}) {
				t.Fatalf("check advises %q, want [strata repair config]", cmds)
			}

			if out := c.ok("repair", "config"); !strings.Contains(out, "config rewritten from the copy in key file") {
				t.Errorf("repair config: %q", out)
			}
			if got := readFile(t, cfgPath); !bytes.Equal(got, original) {
				t.Errorf("repaired config differs from the one init wrote (%d bytes, want %d)", len(got), len(original))
			}
			if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("repaired config: %v, mode %v; want 0600", err, fi.Mode().Perm())
			}
			if _, errOut := c.code(0, "check", "--read-data"); strings.Contains(errOut, "config") {
				t.Errorf("check after repair still notices the config: %s", errOut)
			}
			if out := c.ok("repair", "config"); !strings.Contains(out, "nothing to repair") {
				t.Errorf("repair config on an intact config: %q", out)
			}
			c.backupStdin([]byte("more rows\n"), "more.tsv")
			if n := len(c.snapshots()); n != 2 {
				t.Errorf("after repair: %d snapshots, want 2", n)
			}
		})
	}
}

// TestDamagedConfigWithoutCopy strips the copy from the key file (as a
// key file written before strata kept one has none): a damaged config
// then refuses with an error that says no key file holds a copy and what
// to do; check says so beforehand (a notice advising `key passwd`);
// `key add` on an intact repository gives the new key file a copy, which
// then stands in.
func TestDamagedConfigWithoutCopy(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	keyPath := c.onlyFile("keys")
	var kf map[string]any
	if err := json.Unmarshal(readFile(t, keyPath), &kf); err != nil {
		t.Fatal(err)
	}
	if kf["config"] == nil {
		t.Fatalf("init wrote a key file without a copy of the config:\n%s", readFile(t, keyPath))
	}
	delete(kf, "config")
	old, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	writeFile0600(t, filepath.Join(c.repo, "keys", crypto.FileID(old).String()), string(old))
	// The journal records the key file as it is now, as if it had been
	// written so.
	c.ok("repair", "journal")

	// check says so, as a notice, and what gives a key a copy.
	out, _ := c.code(0, "check")
	if !strings.Contains(out, "notice: no key file holds a copy of the config") || !strings.Contains(out, "strata key passwd") {
		t.Errorf("check with no copy of the config: %s", out)
	}
	var rep struct {
		WhatToDo []struct{ Command string } `json:"what_to_do"`
	}
	jsonOut, _ := c.code(0, "check", "--json")
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil || len(rep.WhatToDo) != 1 || rep.WhatToDo[0].Command != "strata key passwd" {
		t.Errorf("check --json with no copy of the config advises %+v (%v), want strata key passwd", rep.WhatToDo, err)
	}

	cfgPath := filepath.Join(c.repo, "config")
	original := readFile(t, cfgPath)
	flipByte(t, cfgPath, 10)
	// Readers work with default settings; backups are refused.
	if out, errOut := c.code(0, "dump", "latest", "/a.tsv"); out != "rows\n" || !strings.Contains(errOut, "no key file holds a copy of it") ||
		!strings.Contains(errOut, "strata repair config --new-polynomial") {
		t.Errorf("dump without a copy: %q, stderr %q; want the rows and a notice", out, errOut)
	}
	c.stdin = []byte("new rows\n")
	if _, errOut := c.code(exitError, "backup", "--stdin", "--stdin-name", "b.tsv"); !strings.Contains(errOut, "backups are refused") {
		t.Errorf("backup without a copy: stderr %q, want it refused", errOut)
	}
	if _, cmds := c.checkAdvice(); !slices.Equal(cmds, []string{"strata repair config --new-polynomial"}) {
		t.Errorf("check without a copy advises %q", cmds)
	}
	if _, errOut := c.code(exitError, "repair", "config"); !strings.Contains(errOut, "--new-polynomial") {
		t.Errorf("repair config without a copy: stderr %q, want a refusal naming --new-polynomial", errOut)
	}
	// --new-polynomial (on a copy of the repository) writes a new config:
	// backups work again and the old snapshot still restores.
	fresh := c.clone(t)
	if out := fresh.ok("repair", "config", "--new-polynomial"); !strings.Contains(out, "new config written") {
		t.Errorf("repair config --new-polynomial: %q", out)
	}
	if _, errOut := fresh.code(0, "check", "--read-data"); strings.Contains(errOut, "damaged") {
		t.Errorf("check after --new-polynomial: %s", errOut)
	}
	fresh.backupStdin([]byte("new rows\n"), "b.tsv")
	if out, _ := fresh.code(0, "dump", fresh.snapshots()[0].ID, "/a.tsv"); out != "rows\n" {
		t.Errorf("after --new-polynomial the old snapshot dumps %q", out)
	}
	writeFile(t, cfgPath, original)

	pw2 := filepath.Join(t.TempDir(), "pw2")
	writeFile0600(t, pw2, "second-password\n")
	c.ok("key", "add", "--new-password-file", pw2)
	flipByte(t, cfgPath, 10)
	// The first password opens the old key file, which has no copy; the
	// new key file's copy stands in.
	if _, errOut := c.code(0, "snapshots"); !strings.Contains(errOut, "strata repair config") {
		t.Errorf("snapshots with a copy in the added key: stderr %q, want the notice", errOut)
	}
	c.ok("repair", "config")
	if !bytes.Equal(readFile(t, cfgPath), original) {
		t.Errorf("repaired config differs from the one init wrote")
	}
	if out := c.ok("check"); strings.Contains(out, "no key file holds a copy") {
		t.Errorf("check after key add still says no key holds a copy: %s", out)
	}
}

// TestDamagedConfigForeignKey puts another repository's key file (same
// password) in place of this repository's only key and damages the
// config: the foreign key opens its own master key and its own copy of
// the config, which must not stand in (repair config would write another
// repository's config here). Open refuses, naming the foreign key file,
// and the config stays as it was.
func TestDamagedConfigForeignKey(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	other := newCLI(t)
	other.ok("init")
	foreign := other.onlyFile("keys")
	if err := os.Remove(c.onlyFile("keys")); err != nil {
		t.Fatal(err)
	}
	writeFile0600(t, filepath.Join(c.repo, "keys", filepath.Base(foreign)), string(readFile(t, foreign)))
	cfgPath := filepath.Join(c.repo, "config")
	flipByte(t, cfgPath, 10)
	damaged := readFile(t, cfgPath)

	for _, args := range [][]string{{"snapshots"}, {"repair", "config"}} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "belongs to another repository") || !strings.Contains(errOut, filepath.Base(foreign)[:8]) {
			t.Errorf("%s: stderr %q, want the foreign key file named", args[0], errOut)
		}
	}
	if !bytes.Equal(readFile(t, cfgPath), damaged) {
		t.Errorf("the config was rewritten from another repository's key file")
	}
}
