package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"strata/pack"
)

// This file builds the repository the damage matrix (damage_matrix_test.go)
// damages, and records what each of its snapshots must restore to and
// which blobs each restored item needs.

// damFixture is a repository with every kind of file: packs of file,
// stream and table data and of trees, one index file per backup, four
// snapshots, two keys, the config, two stale locks, a policy and two
// protections.
type damFixture struct {
	bin      string
	repo     string
	pw, pw2  string // password files: the key the runs use, and the other key
	snaps    []damSnap
	keyUsed  string // key file names: the one pw opens, and the other
	keyOther string
	copies   map[string][]blobCopy // blob ID -> its copies in packs
	bases    map[string]string     // delta blob ID -> its base
	packs    map[string]string     // pack ID -> path in the fixture
	treePack map[string]bool       // packs that hold a tree blob
}

// damSnap is one snapshot of the fixture and what it holds.
type damSnap struct {
	id    string
	time  string // as `snapshots --json` prints it; repaired copies keep it
	tree  string // root tree blob
	kind  string // files, stream or tables
	units []damUnit
}

// damUnit is one thing a user restores: a file, a stream or a table.
type damUnit struct {
	name  string   // absolute path of a file, /NAME of a stream, a table name
	want  []byte   // the bytes, or the table's rows as text (damRows)
	blobs []string // every blob a restore of it needs: the trees on its path, its content, a table's schema.json
	first string   // its first content blob
}

// blobCopy is where one copy of a blob lies.
type blobCopy struct {
	pack        string
	off, length int64
}

// newDamFixture builds the fixture in a folder of t's and the strata binary
// the matrix runs. Keys are made in-process with cheap key derivation, so
// the binary opens the repository quickly; the rest is done by the binary
// (quicker than in-process under the race detector).
func newDamFixture(t *testing.T) *damFixture {
	t.Helper()
	f := &damFixture{bin: buildStrata(t)}
	c := newCLI(t)
	f.repo, f.pw = c.repo, c.pwFile
	c.ok("init", "--pack-size", "1")
	f.keyUsed = c.files("keys")[0]
	f.pw2 = filepath.Join(t.TempDir(), "pw2")
	if err := os.WriteFile(f.pw2, []byte("second-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("key", "add", "--new-password-file", f.pw2)
	for _, k := range c.files("keys") {
		if k != f.keyUsed {
			f.keyOther = k
		}
	}

	// Files: a generated export, a small note, and a second data file.
	src := filepath.Join(t.TempDir(), "src")
	files := map[string][]byte{
		"a.tsv":      sampleData(t),
		"notes.txt":  []byte("notes of the damage matrix\n"),
		"sub/b.data": bytes.ToUpper(genData(t, 700<<10)),
	}
	var fileUnits []damUnit
	for name, b := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		fileUnits = append(fileUnits, damUnit{name: p, want: b})
	}
	f.ok(t, nil, "backup", "--time", "2026-01-01 01:00:00", src)
	stream := bytes.ReplaceAll(genData(t, 1<<20), []byte("\t"), []byte(";"))
	f.ok(t, stream, "backup", "--stdin", "--stdin-name", "export.tsv", "--time", "2026-01-01 02:00:00")

	// Two generations of a SQLite database: the second changes 2% of the
	// rows, so its chunks are delta blobs on the first's.
	dbPath := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sqlExec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, balance NUMERIC, note TEXT)`)
	sqlExec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total REAL)`)
	sqlExec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 12000)
		INSERT INTO customers SELECT i, 'c' || i || '@example.com', i % 997, printf('%0100d', i * 7919) FROM n`)
	sqlExec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 8000)
		INSERT INTO orders SELECT i, (i * 31) % 12000 + 1, i / 7.0 FROM n`)
	tableUnits := func() []damUnit {
		return []damUnit{{name: "customers", want: damRows(t, db, "customers")}, {name: "orders", want: damRows(t, db, "orders")}}
	}
	t1 := tableUnits()
	f.ok(t, nil, "backup", "--db", "sqlite://"+dbPath, "--time", "2026-01-01 03:00:00")
	sqlExec(`UPDATE customers SET balance = balance + 1 WHERE id % 50 = 0`)
	sqlExec(`UPDATE orders SET total = total * 2 WHERE id % 50 = 0`)
	t2 := tableUnits()
	f.ok(t, nil, "backup", "--db", "sqlite://"+dbPath, "--time", "2026-01-01 04:00:00")

	var sns []snapshotJSON
	f.catJSON(t, &sns, "snapshots", "--json")
	if len(sns) != 4 {
		t.Fatalf("fixture has %d snapshots, want 4", len(sns))
	}
	sort.Slice(sns, func(i, j int) bool { return sns[i].Time < sns[j].Time })
	for i, u := range [][]damUnit{fileUnits, {{name: "/export.tsv", want: stream}}, t1, t2} {
		kind := []string{"files", "stream", "tables", "tables"}[i]
		f.snaps = append(f.snaps, damSnap{id: sns[i].ID, time: sns[i].Time, kind: kind, units: u})
	}

	f.ok(t, nil, "policy", "set", "--keep-last", "10")
	f.ok(t, nil, "protect", f.snaps[0].id, "--reason", "damage matrix")
	f.ok(t, nil, "protect", f.snaps[2].id, "--reason", "damage matrix")
	// The model is read first: reading the repository removes the
	// stale locks of this host's dead processes.
	f.model(t, c.packs())
	f.staleLocks(t, 2)
	return f
}

// ok runs the binary on the fixture, which must succeed.
func (f *damFixture) ok(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(f.bin, args...)
	cmd.Env = damEnv(f.repo, f.pw, t.TempDir())
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("strata %s: %v\n%s%s", strings.Join(args, " "), err, out.Bytes(), errOut.Bytes())
	}
	return out.String()
}

// catJSON runs the binary and decodes what it prints into v.
func (f *damFixture) catJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := f.ok(t, nil, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("strata %s printed no valid JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// damRows is a table's rows as text, one line per row in key order.
func damRows(t *testing.T, db *sql.DB, table string) []byte {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY 1`)
	if err != nil {
		t.Fatalf("reading %s: %v", table, err)
	}
	defer rows.Close()
	b, err := rowsText(rows)
	if err != nil {
		t.Fatalf("reading %s: %v", table, err)
	}
	return b
}

// rowsText writes every row as its values' types and texts, tab-separated.
func rowsText(rows *sql.Rows) ([]byte, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('\t')
			}
			if s, ok := v.([]byte); ok {
				v = string(s)
			}
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), rows.Err()
}

// staleLocks leaves the locks of n crashed processes: n backups that
// wait on their standard input run at once and are killed once each has
// written its lock file. They run at once because a backup started after
// the others were killed would remove their locks (this host's dead
// processes': docs/design.md, "Locks").
func (f *damFixture) staleLocks(t *testing.T, n int) {
	t.Helper()
	// A lock is written to a temporary file first; only the renamed
	// file counts.
	locks := func() int {
		es, _ := os.ReadDir(filepath.Join(f.repo, "locks"))
		n := 0
		for _, e := range es {
			if !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
		return n
	}
	before := locks()
	var cmds []*exec.Cmd
	defer func() {
		for _, cmd := range cmds {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	for range n {
		cmd := exec.Command(f.bin, "backup", "--stdin", "--stdin-name", "held")
		cmd.Env = damEnv(f.repo, f.pw, t.TempDir())
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for locks() < before+n {
		if time.Now().After(deadline) {
			t.Fatalf("the backups took %d locks in 2 minutes, want %d", locks()-before, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// damEnv is the environment the binary runs in: no STRATA_* variable of
// the test's own environment, the repository and a password file.
func damEnv(repo, pw, tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			env = append(env, kv)
		}
	}
	// The audit anchors (docs/design.md, "The audit trail") in the case's
	// own folder, not the user's.
	return append(env, "STRATA_REPOSITORY="+repo, "STRATA_PASSWORD_FILE="+pw, "TMPDIR="+tmp, "XDG_STATE_HOME="+tmp)
}

// pages returns the pages below page id of a table's chunk list, id
// first, and the chunks' content blobs, in order.
func (f *damFixture) pages(t *testing.T, id string) (pages, content []string) {
	t.Helper()
	var pg struct {
		Level   int
		Entries []struct{ ID string }
	}
	f.catJSON(t, &pg, "cat", "tree", id)
	pages = []string{id}
	for _, e := range pg.Entries {
		if pg.Level == 0 {
			content = append(content, e.ID)
			continue
		}
		p, c := f.pages(t, e.ID)
		pages, content = append(pages, p...), append(content, c...)
	}
	return pages, content
}

// model records where every blob lies (from the pack headers) and which
// blobs each unit needs (from the snapshots' trees).
func (f *damFixture) model(t *testing.T, packs map[string]string) {
	t.Helper()
	f.copies, f.bases, f.treePack = map[string][]blobCopy{}, map[string]string{}, map[string]bool{}
	f.packs = packs
	for id := range f.packs {
		var blobs []pack.Blob
		f.catJSON(t, &blobs, "cat", "pack-header", id)
		for _, b := range blobs {
			f.copies[b.ID.String()] = append(f.copies[b.ID.String()], blobCopy{pack: id, off: int64(b.Offset), length: int64(b.Length)})
			if !b.Base.IsNull() {
				f.bases[b.ID.String()] = b.Base.String()
			}
			if b.Type == pack.TreeBlob {
				f.treePack[id] = true
			}
		}
	}
	type node struct {
		Name    string
		Kind    string
		Subtree string
		Content []string
		Pages   string
		Log     string
	}
	for i := range f.snaps {
		sn := &f.snaps[i]
		var meta struct{ Tree string }
		f.catJSON(t, &meta, "cat", "snapshot", sn.id)
		sn.tree = meta.Tree
		needs := map[string][]string{} // unit name -> blobs
		first := map[string]string{}   // unit name -> first content blob
		var schema []string
		var walk func(tree, dir string, path []string)
		walk = func(tree, dir string, path []string) {
			var tr struct{ Nodes []node }
			f.catJSON(t, &tr, "cat", "tree", tree)
			path = append(path[:len(path):len(path)], tree)
			for _, n := range tr.Nodes {
				needed := n.Content
				if n.Pages != "" {
					// A table's chunk list in pages: the unit needs the
					// pages as it needs the trees above it.
					pages, content := f.pages(t, n.Pages)
					n.Content, needed = content, append(pages, content...)
				}
				if n.Log != "" {
					// A table's change log (docs/design.md, "Table
					// change logs"): without it no row is known.
					needed = append(needed, n.Log)
				}
				switch {
				case n.Kind == "dir":
					walk(n.Subtree, dir+"/"+n.Name, path)
				case sn.kind == "tables" && n.Name == "schema.json":
					schema = append(path, n.Content...)
				case sn.kind == "tables":
					needs[n.Name] = append(path, needed...)
					first[n.Name] = n.Content[0]
				default:
					needs[dir+"/"+n.Name] = append(path, n.Content...)
					if len(n.Content) > 0 {
						first[dir+"/"+n.Name] = n.Content[0]
					}
				}
			}
		}
		walk(meta.Tree, "", nil)
		for j := range sn.units {
			u := &sn.units[j]
			blobs, ok := needs[u.name]
			if !ok {
				t.Fatalf("snapshot %s has no %s; it holds %v", sn.id[:8], u.name, needs)
			}
			u.blobs, u.first = append(blobs, schema...), first[u.name]
		}
	}
}

// lostBlobs returns the blobs of which no copy survives when the regions
// of packs in gone are destroyed (pack ID -> destroyed byte range; a
// range of -1, -1 means the whole pack).
func (f *damFixture) lostBlobs(gone map[string][2]int64) map[string]bool {
	lost := map[string]bool{}
	for id, copies := range f.copies {
		intact := false
		for _, cp := range copies {
			r, hit := gone[cp.pack]
			if !hit || (r[0] >= 0 && (cp.off+cp.length <= r[0] || cp.off >= r[1])) {
				intact = true
			}
		}
		if !intact {
			lost[id] = true
		}
	}
	return lost
}

// unitLost tells whether u needs a lost blob, directly or as the base of
// a delta blob it needs.
func (f *damFixture) unitLost(u damUnit, lost map[string]bool) bool {
	for _, b := range u.blobs {
		for id := b; id != ""; id = f.bases[id] {
			if lost[id] {
				return true
			}
		}
	}
	return false
}
