package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyPair returns a source repository and a destination harness whose
// copy reads it: the destination has a password of its own, and the
// source's comes from STRATA_FROM_PASSWORD_FILE.
func copyPair(t *testing.T) (src, dst *tcli) {
	t.Helper()
	src = newCLI(t)
	src.ok("init")
	dst = newCLI(t)
	pw := filepath.Join(t.TempDir(), "dst-pw")
	if err := os.WriteFile(pw, []byte("another-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst.pwFile = pw
	dst.vars["STRATA_PASSWORD_FILE"] = pw
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	return src, dst
}

// copyJSONRun runs `copy --json` with args and decodes its report.
func (c *tcli) copyJSONRun(args ...string) copyJSON {
	c.t.Helper()
	out := c.ok(append([]string{"copy", "--json"}, args...)...)
	var rep copyJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		c.t.Fatalf("copy --json printed %q: %v", out, err)
	}
	return rep
}

// bigSQLite creates a SQLite database with a table t of n rows (about 60
// bytes each, so several chunks) and returns its path and handle.
func bigSQLite(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`,
		fmt.Sprintf(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < %d)
			INSERT INTO t SELECT x, hex(randomblob(24)) FROM n`, n),
		`CREATE TABLE small (k TEXT PRIMARY KEY, note TEXT)`,
		`INSERT INTO small VALUES ('a', 'first'), ('b', NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path, db
}

// TestCopy copies table, stream and file snapshots between repositories
// of different passwords, restores from the copies, copies again
// (nothing), and copies a new hour (only its blobs, kept as deltas).
func TestCopy(t *testing.T) {
	t.Parallel()
	src, dst := copyPair(t)
	path, db := bigSQLite(t, 30000)
	dsn := "sqlite://" + path
	src.ok("backup", "--db", dsn, "--tier", "hourly")
	src.backupStdin(sampleData(t), "export.tsv", "--tag", "nightly")
	files := t.TempDir()
	writeTree(t, files, map[string]string{"a.csv": "id,total\n1,9.50\n", "sub/b.txt": "notes\n"})
	src.ok("backup", files)
	dst.ok("init")

	rep := dst.copyJSONRun()
	if rep.Copied != 3 || rep.Skipped != 0 || rep.DataBlobs == 0 || rep.TreeBlobs == 0 {
		t.Fatalf("first copy: %+v", rep)
	}
	got, want := dst.snapshots(), src.snapshots()
	if len(got) != 3 {
		t.Fatalf("destination has %d snapshots, want 3", len(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Time != w.Time || g.Host != w.Host || g.Source != w.Source || g.Tier != w.Tier || strings.Join(g.Tags, ",") != strings.Join(w.Tags, ",") {
			t.Errorf("copy %d = %+v, want the fields of %+v", i, g, w)
		}
		if g.Original == nil || *g.Original != w.ID {
			t.Errorf("copy %d records original %v, want the source snapshot %s", i, g.Original, w.ID)
		}
		if g.ID == w.ID || g.Tree == w.Tree {
			t.Errorf("copy %d has the source's IDs (%s, tree %s): the destination's key makes its own", i, g.ID, g.Tree)
		}
	}

	// Restores from the copies equal restores from the source.
	for _, table := range []string{"t", "small"} {
		a := src.ok("dump", "latest", table, "--format", "csv", "--source", dsn)
		b := dst.ok("dump", "latest", table, "--format", "csv", "--source", dsn)
		if a != b || len(a) < 10 {
			t.Errorf("dump of table %s differs between source and copy (%d and %d bytes)", table, len(a), len(b))
		}
	}
	restored := filepath.Join(t.TempDir(), "restored.db")
	dst.ok("restore", "latest", "--db", "sqlite://"+restored, "--source", dsn)
	rdb, err := sql.Open("sqlite", "file:"+restored)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var rows int
	var sum, wantSum string
	if err := rdb.QueryRow(`SELECT count(*), group_concat(v, '') FROM (SELECT v FROM t ORDER BY id)`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT group_concat(v, '') FROM (SELECT v FROM t ORDER BY id)`).Scan(&wantSum); err != nil {
		t.Fatal(err)
	}
	if rows != 30000 || sum != wantSum {
		t.Errorf("restored from the copy: %d rows, rows equal: %v", rows, sum == wantSum)
	}
	if a, b := src.ok("dump", "latest", "/export.tsv"), dst.ok("dump", "latest", "/export.tsv"); a != b || a != string(sampleData(t)) {
		t.Error("the stream dumped from the copy differs")
	}
	target := t.TempDir()
	dst.ok("restore", "latest", "--target", target)
	if b := readFile(t, filepath.Join(target, files, "sub/b.txt")); string(b) != "notes\n" {
		t.Errorf("file restored from the copy: %q", b)
	}
	dst.check()

	// A second run copies nothing and says so.
	_, errOut := dst.code(0, "copy")
	if !strings.Contains(errOut, "nothing to copy: 3 snapshots already here") {
		t.Errorf("second copy said:\n%s", errOut)
	}
	if rep := dst.copyJSONRun(); rep.Copied != 0 || rep.Skipped != 3 || rep.DataBlobs != 0 || rep.TreeBlobs != 0 || rep.BytesAdded != 0 {
		t.Errorf("second copy: %+v", rep)
	}

	// A new hour in the source: only its blobs are copied, deltas stay
	// deltas. The first hour after the full copy stores the table's change
	// log (docs/design.md, "Table change logs"), the second the next log
	// as a delta against it.
	if _, err := db.Exec(`UPDATE t SET v = v || 'x' WHERE id IN (7, 15007, 29007)`); err != nil {
		t.Fatal(err)
	}
	src.ok("backup", "--db", dsn, "--tier", "hourly")
	dst.copyJSONRun()
	if _, err := db.Exec(`UPDATE t SET v = v || 'y' WHERE id IN (8, 15008, 29008)`); err != nil {
		t.Fatal(err)
	}
	src.ok("backup", "--db", dsn, "--tier", "hourly")
	hour := src.snapshots("--source", dsn)
	srcAdded := hour[len(hour)-1].Summary
	rep = dst.copyJSONRun()
	// The source's summary counts the data blobs it stored (not trees).
	t.Logf("new hour: source stored %d data blobs, %d bytes; the copy stored %d data blobs (%d delta), %d tree blobs, %d bytes, found %d, read %d data blobs, %d bytes",
		srcAdded.BlobsAdded, srcAdded.BytesAdded, rep.DataBlobs, rep.DeltaBlobs, rep.TreeBlobs, rep.BytesAdded, rep.Present, rep.DataRead, rep.BytesRead)
	if rep.Copied != 1 || rep.Skipped != 4 {
		t.Fatalf("copy of the new hour: %+v", rep)
	}
	if rep.DataBlobs == 0 || rep.DeltaBlobs == 0 || uint64(rep.DataBlobs) > srcAdded.BlobsAdded {
		t.Errorf("the new hour's copy stored %d data blobs (%d as deltas) and %d tree blobs; the source's backup added %d blobs",
			rep.DataBlobs, rep.DeltaBlobs, rep.TreeBlobs, srcAdded.BlobsAdded)
	}
	// What the hour shares with the copied snapshot is found through that
	// copy, unread: the source reads the changed chunks only.
	if uint64(rep.DataRead) != srcAdded.BlobsAdded {
		t.Errorf("the new hour's copy read %d data blobs of the source, want only the %d the hour added", rep.DataRead, srcAdded.BlobsAdded)
	}
	// The source's summary counts data bytes; the copy's also the trees
	// and pages, in two copies each (a few KiB here).
	if rep.BytesAdded > 4*srcAdded.BytesAdded+32<<10 {
		t.Errorf("the new hour's copy added %d bytes; the source's backup %d bytes of data", rep.BytesAdded, srcAdded.BytesAdded)
	}
	a := src.ok("dump", "latest", "t", "--format", "csv", "--source", dsn)
	if b := dst.ok("dump", "latest", "t", "--format", "csv", "--source", dsn); a != b {
		t.Error("the new hour dumped from the copy differs")
	}
	dst.check()
}

// TestCopyChunkerParams: a repository made with --copy-chunker-params-from
// cuts the same chunks, so a copy after an identical backup stores no data
// blob; one made without says dedup will not happen and copies all.
func TestCopyChunkerParams(t *testing.T) {
	t.Parallel()
	src, dst := copyPair(t)
	delete(dst.vars, "STRATA_FROM_PASSWORD_FILE")
	dst.vars["STRATA_FROM_PASSWORD"] = "secret-pw"
	out, errOut := dst.code(0, "init", "--copy-chunker-params-from", src.repo)
	if strings.Contains(out+errOut, "secret-pw") {
		t.Errorf("init printed the source's password:\n%s%s", out, errOut)
	}
	var a, b map[string]any
	src.catJSON(&a, "config")
	dst.catJSON(&b, "config")
	for _, k := range []string{"chunker_polynomial", "min_size", "avg_bits", "max_size", "table_min_size", "table_avg_bits", "table_max_size"} {
		if a[k] != b[k] {
			t.Errorf("config %s: source %v, destination %v", k, a[k], b[k])
		}
	}
	if a["id"] == b["id"] {
		t.Error("the new repository has the source's ID")
	}
	data := sampleData(t)
	src.backupStdin(data, "export.tsv")
	dst.backupStdin(data, "export.tsv")
	rep := dst.copyJSONRun()
	if rep.Copied != 1 || rep.DataBlobs != 0 || rep.Present == 0 || !rep.SameChunker {
		t.Errorf("copy after the same backup: %+v, want no data blob stored", rep)
	}

	other := newCLI(t)
	other.vars["STRATA_FROM_REPOSITORY"] = src.repo
	other.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	other.ok("init")
	other.backupStdin(data, "export.tsv")
	out, errOut = other.code(0, "copy")
	if !strings.Contains(errOut, "other parameters than the source") || !strings.Contains(errOut, "--copy-chunker-params-from") {
		t.Errorf("copy between different chunkers said:\n%s%s", out, errOut)
	}
	if got := other.ok("dump", "latest", "/export.tsv"); got != string(data) {
		t.Error("the copy between different chunkers dumps other bytes")
	}
	other.check()
	dst.check()
}

// TestCopyWrongSourcePassword: a wrong source password fails with exit 12,
// naming the source, and never prints the password.
func TestCopyWrongSourcePassword(t *testing.T) {
	t.Parallel()
	src, dst := copyPair(t)
	src.backupStdin([]byte("x\n"), "s")
	dst.ok("init")
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = wrong
	out, errOut := dst.code(exitWrongPass, "copy")
	if !strings.Contains(errOut, "source repository "+src.repo) || !strings.Contains(errOut, "wrong password") || strings.Contains(out+errOut, "not-the-password") {
		t.Errorf("copy with a wrong source password said:\n%s%s", out, errOut)
	}
	delete(dst.vars, "STRATA_FROM_PASSWORD_FILE")
	_, errOut = dst.code(exitError, "copy")
	if !strings.Contains(errOut, "STRATA_FROM_PASSWORD") || !strings.Contains(errOut, "--from-password-file") {
		t.Errorf("copy without a source password said:\n%s", errOut)
	}
	if n := len(dst.snapshots()); n != 0 {
		t.Errorf("destination has %d snapshots", n)
	}
}

// TestCopyDamagedSourceBlob: a damaged blob of the source fails the copy
// of its snapshot, naming the snapshot and the blob; the snapshots before
// it are copied, it is not, and the destination stays clean.
func TestCopyDamagedSourceBlob(t *testing.T) {
	t.Parallel()
	src, dst := copyPair(t)
	src.backupStdin([]byte("first stream\n"), "one")
	bad := src.backupStdin(genData(t, 200<<10), "two")
	b := src.dataBlob(bad, "two")
	flipByte(t, b.Path, b.Offset+30)
	dst.ok("init")
	out, errOut := dst.code(exitError, "copy")
	var tree struct{ Nodes []struct{ Content []string } }
	var sn struct{ Tree string }
	src.catJSON(&sn, "snapshot", bad)
	src.catJSON(&tree, "tree", sn.Tree)
	blobID := tree.Nodes[0].Content[0]
	if !strings.Contains(errOut, "snapshot "+bad[:8]) || !strings.Contains(errOut, blobID) || !strings.Contains(errOut, "not copied") {
		t.Errorf("copy of a damaged blob said:\n%s%s", out, errOut)
	}
	noPanic(t, out, errOut)
	sns := dst.snapshots()
	if len(sns) != 1 || sns[0].Paths[0] != "/one" {
		t.Errorf("destination snapshots after the failed copy: %+v", sns)
	}
	dst.check()
}

// TestCopyKilled kills `strata copy` (SIGKILL) at three moments of a copy
// of three snapshots into a repository of 1 MiB packs: once its first pack
// is stored (no index yet), once its first snapshot is written, and once a
// pack of the second snapshot is stored. Each time check --read-data finds
// no error in the destination, a second run completes the copy, and the
// copies dump what the source does. With -short only the last moment.
func TestCopyKilled(t *testing.T) {
	bin := buildStrata(t)
	src, _ := copyPair(t)
	for i := range 3 {
		src.backupStdin(genData(t, int64(2+i)<<20), fmt.Sprintf("export%d.tsv", i))
	}
	// count returns the files below folder of dst's repository, at any
	// depth, leaving out temporary ones; files may vanish meanwhile.
	count := func(dst *tcli, folder string) int {
		n := 0
		_ = filepath.WalkDir(filepath.Join(dst.repo, folder), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				n++
			}
			return nil
		})
		return n
	}
	moments := []struct {
		name string
		now  func(dst *tcli, packsAtFirst *int) bool
	}{
		{"once the first pack is stored", func(dst *tcli, _ *int) bool { return count(dst, "data") > 0 }},
		{"once the first snapshot is written", func(dst *tcli, _ *int) bool { return count(dst, "snapshots") > 0 }},
		{"once a pack of the second snapshot is stored", func(dst *tcli, first *int) bool {
			if *first < 0 && count(dst, "snapshots") > 0 {
				*first = count(dst, "data")
			}
			return *first >= 0 && count(dst, "data") > *first
		}},
	}
	if testing.Short() {
		moments = moments[2:] // make test-long kills at all three
	}
	for _, m := range moments {
		_, dst := copyPair(t)
		dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
		dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
		dst.ok("init", "--pack-size", "1")
		cmd := exec.Command(bin, "copy")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range dst.vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		first, killed := -1, false
		for waiting := true; waiting; {
			select {
			case err := <-done:
				t.Errorf("the copy ended (%v) before it could be killed %s:\n%s", err, m.name, out.String())
				waiting = false
			case <-time.After(time.Millisecond):
				if m.now(dst, &first) {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					<-done
					killed, waiting = true, false
				}
			}
		}
		if !killed {
			continue
		}
		t.Logf("killed %s: %d snapshots and %d packs stored", m.name, count(dst, "snapshots"), count(dst, "data"))
		noPanic(t, out.String())
		if check := dst.ok("check", "--read-data"); !strings.Contains(check, "no errors were found") {
			t.Fatalf("check after the kill %s:\n%s", m.name, check)
		}
		dst.ok("copy")
		if n := len(dst.snapshots()); n != 3 {
			t.Fatalf("after the kill %s and a second copy the destination has %d snapshots, want 3", m.name, n)
		}
		for i := range 3 {
			name := fmt.Sprintf("/export%d.tsv", i)
			if a, b := src.ok("dump", "latest", name), dst.ok("dump", "latest", name); a != b {
				t.Errorf("%s dumped from the copy differs", name)
			}
		}
		dst.check()
	}
}

// TestCopyResumes: a copy killed after it stored some packs of a
// snapshot, before any index file named them, resumes: the next run
// indexes those packs and sends only the blobs they lack (it sent the
// whole snapshot again, and the packs stayed behind for prune).
func TestCopyResumes(t *testing.T) {
	bin := buildStrata(t)
	src, ref := copyPair(t)
	src.backupStdin(genData(t, 32<<20), "export.tsv")
	ref.ok("init", "--pack-size", "1")
	full := ref.copyJSONRun()
	refPacks := packFiles(ref)

	_, dst := copyPair(t)
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	dst.ok("init", "--pack-size", "1")
	cmd := exec.Command(bin, "copy")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range dst.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stored := 0
	for killed := false; !killed; {
		select {
		case err := <-done:
			t.Fatalf("the copy ended (%v) before it stored 2 packs:\n%s", err, out.String())
		case <-time.After(time.Millisecond):
			if stored = packFiles(dst); stored >= 2 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done
				killed = true
			}
		}
	}
	if n := len(dst.files("index")); n != 0 {
		t.Fatalf("the killed copy wrote %d index files before it was killed (%d packs stored): the test kills too late", n, stored)
	}
	stored = packFiles(dst)
	rep := dst.copyJSONRun()
	if rep.Copied != 1 || rep.DataBlobs >= full.DataBlobs || rep.Present == 0 {
		t.Errorf("copy after a kill with %d packs stored: %d of the %d data blobs stored again, %d present; want fewer stored, some present",
			stored, rep.DataBlobs, full.DataBlobs, rep.Present)
	}
	if n := packFiles(dst); n > refPacks+1 {
		t.Errorf("%d packs after the resumed copy, %d after an uninterrupted one: the packs of the killed run were sent again", n, refPacks)
	}
	if a, b := src.ok("dump", "latest", "/export.tsv"), dst.ok("dump", "latest", "/export.tsv"); a != b {
		t.Error("the resumed copy dumps other bytes than the source")
	}
	dst.check()
}

// packFiles counts the packs stored in c's repository on disk, leaving
// out temporary files; files may vanish meanwhile.
func packFiles(c *tcli) int {
	n := 0
	_ = filepath.WalkDir(filepath.Join(c.repo, "data"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}

// TestCopyPostgres: a PostgreSQL snapshot copied to another repository
// restores the same rows and schema as the source's.
func TestCopyPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, balance numeric(12,2) CHECK (balance >= 0), seen timestamptz)`,
		`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), note text)`,
		`INSERT INTO customers SELECT g, 'c' || g || '@example.com', g % 1000, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 20000) g`,
		`INSERT INTO orders SELECT g, 1 + g % 20000, CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('n', g % 50) END FROM generate_series(1, 30000) g`)
	src, dst := copyPair(t)
	src.ok("backup", "--db", s.dsn)
	s.exec(t, `UPDATE customers SET balance = balance + 1 WHERE id % 100 = 3`)
	src.ok("backup", "--db", s.dsn)
	// The second hour's change log is a delta against the first's.
	s.exec(t, `UPDATE customers SET balance = balance + 1 WHERE id % 100 = 4`)
	src.ok("backup", "--db", s.dsn)
	dst.ok("init")
	if rep := dst.copyJSONRun(); rep.Copied != 3 || rep.DeltaBlobs == 0 {
		t.Errorf("copy: %+v, want 3 snapshots, the third with delta blobs", rep)
	}
	for _, table := range []string{"public.customers", "public.orders"} {
		a := src.ok("dump", "latest", table, "--format", "csv", "--source", s.dsn)
		b := dst.ok("dump", "latest", table, "--format", "csv", "--source", s.dsn)
		if a != b || strings.Count(a, "\n") < 20000 {
			t.Errorf("%s dumped from the copy differs from the source's dump (%d and %d bytes)", table, len(a), len(b))
		}
	}
	fromSrc, fromCopy := pgDB(t), pgDB(t)
	src.ok("restore", "latest", "--db", fromSrc.dsn, "--source", s.dsn)
	dst.ok("restore", "latest", "--db", fromCopy.dsn, "--source", s.dsn)
	for _, q := range []string{
		`SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c`,
		`SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o`,
		`SELECT string_agg(conname || ':' || pg_get_constraintdef(oid), ',' ORDER BY conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
	} {
		if a, b, orig := fromSrc.str(t, q), fromCopy.str(t, q), s.str(t, q); a != b || a != orig {
			t.Errorf("%s: restored from the source %q, from the copy %q, original %q", q, a, b, orig)
		}
	}
	dst.check()
}

// TestCopyAfterTag: a copy retagged in the destination, or its source
// retagged after the copy, is still recognised by its original: nothing
// is copied twice. The source's password may come from
// STRATA_FROM_PASSWORD_COMMAND.
func TestCopyAfterTag(t *testing.T) {
	t.Parallel()
	src, dst := copyPair(t)
	delete(dst.vars, "STRATA_FROM_PASSWORD_FILE")
	dst.vars["STRATA_FROM_PASSWORD_COMMAND"] = "cat " + src.pwFile
	src.backupStdin([]byte("a\n"), "s")
	dst.ok("init")
	if rep := dst.copyJSONRun(); rep.Copied != 1 {
		t.Fatalf("first copy: %+v", rep)
	}
	dst.ok("tag", "--add", "offsite", "latest")
	src.ok("tag", "--add", "checked", "latest")
	if rep := dst.copyJSONRun(); rep.Copied != 0 || rep.Skipped != 1 {
		t.Errorf("copy after retagging both: %+v, want nothing copied", rep)
	}
	if sns := dst.snapshots(); len(sns) != 1 || strings.Join(sns[0].Tags, ",") != "offsite" {
		t.Errorf("destination snapshots: %+v", sns)
	}
}
