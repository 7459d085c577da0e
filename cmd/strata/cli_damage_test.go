package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDamagedFiles damages one file of a repository at a time and runs the
// commands that read it: each must fail with an error naming the file,
// never panic, and a restore must leave no partial file under its name.
func TestDamagedFiles(t *testing.T) {
	t.Parallel()
	fixture := newCLI(t)
	fixture.ok("init")
	snap := fixture.backupStdin(sampleData(t), "export.tsv")
	data := fixture.dataBlob(snap, "export.tsv")
	var sn struct{ Tree string }
	fixture.catJSON(&sn, "snapshot", snap)
	// The tree is stored twice: damage to both of its packs loses it.
	var treePacks []string
	for id := range fixture.packs() {
		if id != data.Pack {
			treePacks = append(treePacks, id)
		}
	}
	if n := len(fixture.packs()); n != 3 || len(treePacks) != 2 {
		t.Fatalf("fixture has %d packs, want a data pack and two tree packs", n)
	}
	slices.Sort(treePacks)
	treePack := treePacks[0]

	// A damaged file is named the way its messages name it.
	keyName := fixture.files("keys")[0]
	indexName := fixture.files("index")[0]
	type target struct {
		name string
		path func(c *tcli) string
		flip func(t *testing.T, path string) // default: a bit in the middle
		twin func(c *tcli) string            // damaged the same way, when set
		want string                          // in the messages
		// snap: the messages also name the snapshot that loses data.
		snap bool
	}
	targets := []target{
		{name: "config", path: func(c *tcli) string { return filepath.Join(c.repo, "config") }, want: "config"},
		{name: "key", path: func(c *tcli) string { return c.onlyFile("keys") }, flip: flipKeyData, want: "key file keys/" + keyName + " is damaged"},
		{name: "key JSON", path: func(c *tcli) string { return c.onlyFile("keys") }, flip: func(t *testing.T, p string) { flipByte(t, p, 0) }, want: "key file keys/" + keyName + " is damaged"},
		{name: "index", path: func(c *tcli) string { return c.onlyFile("index") }, want: "index/" + indexName},
		{name: "snapshot", path: func(c *tcli) string { return c.onlyFile("snapshots") }, want: "snapshots/" + snap},
		{name: "data pack", path: func(c *tcli) string { return c.packs()[data.Pack] }, flip: func(t *testing.T, p string) { flipByte(t, p, data.Offset+data.Length/2) }, want: data.Pack, snap: true},
		{name: "tree pack", path: func(c *tcli) string { return c.packs()[treePack] }, want: treePack, snap: true,
			twin: func(c *tcli) string { return c.packs()[treePacks[1]] }},
	}
	// The commands that read each file, with their exit codes (0: any
	// failure). A damaged key file is named as damaged (exit 1), never
	// taken for a wrong password (exit 12).
	type command struct {
		args []string
		code int
		ok   bool // succeeds, warning about the file on stderr
	}
	restoreCmd := []string{"restore", "latest", "--target", "@target"}
	dumpCmd := []string{"dump", "latest", "/export.tsv"}
	commands := map[string][]command{
		"config":    {{args: []string{"check"}, code: exitCheckFailed}}, // readers use a key file's copy: cli_config_damage_test.go
		"key":       {{args: []string{"snapshots"}, code: exitError}, {args: []string{"check"}, code: exitError}},
		"key JSON":  {{args: []string{"snapshots"}, code: exitError}, {args: []string{"key", "list"}, code: exitError}},
		"index":     {{args: []string{"ls", "latest"}, ok: true}, {args: dumpCmd, ok: true}, {args: restoreCmd, ok: true}, {args: []string{"check"}, code: exitCheckFailed}},
		"snapshot":  {{args: []string{"snapshots"}, ok: true}, {args: []string{"ls", "latest"}, code: exitError}, {args: []string{"cat", "snapshot", snap[:8]}, code: exitError}, {args: []string{"check"}, code: exitCheckFailed}},
		"data pack": {{args: dumpCmd, code: exitError}, {args: restoreCmd, code: exitError}, {args: []string{"check", "--read-data"}, code: exitCheckFailed}},
		"tree pack": {{args: []string{"ls", "latest"}, code: exitError}, {args: dumpCmd, code: exitError}, {args: restoreCmd, code: exitError}, {args: []string{"check", "--read-data"}, code: exitCheckFailed}},
	}
	damages := []struct {
		name string
		do   func(t *testing.T, tg target, path string)
	}{
		{"flipped byte", func(t *testing.T, tg target, path string) {
			if tg.flip != nil {
				tg.flip(t, path)
			} else {
				flipByte(t, path, int64(len(readFile(t, path))/2))
			}
		}},
		{"truncated to half", func(t *testing.T, tg target, path string) { truncateHalf(t, path) }},
	}
	for _, tg := range targets {
		for _, dm := range damages {
			t.Run(tg.name+"/"+dm.name, func(t *testing.T) {
				c := fixture.clone(t)
				dm.do(t, tg, tg.path(c))
				if tg.twin != nil {
					dm.do(t, tg, tg.twin(c))
				}
				want := tg.want
				for _, cmd := range commands[tg.name] {
					target := filepath.Join(t.TempDir(), "restore")
					args := make([]string, len(cmd.args))
					for i, a := range cmd.args {
						args[i] = strings.ReplaceAll(a, "@target", target)
					}
					out, errOut, code := c.run(args...)
					name := strings.Join(cmd.args, " ")
					noPanic(t, out, errOut)
					if cmd.ok {
						// Readers skip a damaged index file (and read the
						// pack headers instead) or snapshot file, saying so.
						if code != 0 || !strings.Contains(errOut, "skipping damaged") || !strings.Contains(errOut, want) {
							t.Errorf("%s: exit %d, want success with a warning naming %s\nstdout: %.300s\nstderr: %s", name, code, want, out, errOut)
						}
						if args[0] == "dump" && out != string(sampleData(t)) {
							t.Errorf("%s wrote %d bytes, want the %d backed up", name, len(out), len(sampleData(t)))
						}
						if args[0] == "restore" && !bytes.Equal(readFile(t, filepath.Join(target, "export.tsv")), sampleData(t)) {
							t.Errorf("%s did not restore the stream", name)
						}
						continue
					}
					if code == 0 || (cmd.code != 0 && code != cmd.code) {
						t.Errorf("%s: exit %d, want %d\nstdout: %.300s\nstderr: %s", name, code, cmd.code, out, errOut)
					}
					if !strings.Contains(out+errOut, want) {
						t.Errorf("%s: the messages do not name %q:\nstdout: %.1000s\nstderr: %s", name, want, out, errOut)
					}
					if tg.snap && !strings.Contains(out+errOut, "snapshot "+snap[:8]) {
						t.Errorf("%s: the messages do not name snapshot %s:\nstdout: %.1000s\nstderr: %s", name, snap[:8], out, errOut)
					}
					if args[0] == "dump" && len(out) >= len(sampleData(t)) {
						t.Errorf("%s wrote all %d bytes despite the damage", name, len(out))
					}
					if args[0] == "restore" {
						checkNoPartialFiles(t, target)
					}
				}
				if locks := c.files("locks"); len(locks) > 0 {
					t.Errorf("failed commands left locks: %v", locks)
				}
			})
		}
	}
}

// flipKeyData changes one character of the base64 "data" of a key file
// into another valid one: the JSON still decodes, but the sealed master
// key no longer opens. Only the key file's name (the hash of its bytes)
// tells this apart from a wrong password.
func flipKeyData(t *testing.T, path string) {
	t.Helper()
	b := readFile(t, path)
	i := bytes.Index(b, []byte(`"data": "`))
	if i < 0 {
		t.Fatalf("key file has no data field:\n%s", b)
	}
	i += len(`"data": "`) + 20
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	writeFile(t, path, b)
}

// checkNoPartialFiles fails unless the restore target holds no regular
// file at all: neither the damaged file under its name nor a temporary
// file left behind.
func checkNoPartialFiles(t *testing.T, target string) {
	t.Helper()
	_ = filepath.Walk(target, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			t.Errorf("a failed restore left %s (%d bytes)", p, fi.Size())
		}
		return nil
	})
}

// TestWriterRefusingDamagedIndexNamesTheRepair: a command that writes
// refuses a damaged index file (a new snapshot must not reference blobs
// only a pack header places), and its error names the command that mends
// it, not only the one that diagnoses it.
func TestWriterRefusingDamagedIndexNamesTheRepair(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin(sampleData(t), "export.tsv")
	path := c.onlyFile("index")
	flipByte(t, path, int64(len(readFile(t, path))/2))

	c.stdin = sampleData(t)
	out, errOut, code := c.run("backup", "--stdin", "--stdin-name", "export.tsv")
	noPanic(t, out, errOut)
	if code != exitError || !strings.Contains(errOut, "index/"+filepath.Base(path)) || !strings.Contains(errOut, "strata repair index") {
		t.Fatalf("backup with a damaged index file: exit %d, want %d and an error naming the file and `strata repair index`\nstderr: %s", code, exitError, errOut)
	}
	c.ok("repair", "index")
	c.stdin = sampleData(t)
	c.ok("backup", "--stdin", "--stdin-name", "export.tsv")
}
