package archive_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"strata/repo"
	"strata/repo/archive"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/backend/local"
	"strata/repo/backend/mem"
	"strata/repo/prune"
	"strata/repo/repotest"
	"strata/repo/restore"
)

// fileName matches a repository file as errors name it.
var fileName = regexp.MustCompile(`(data/[0-9a-f]{2}/|index/|snapshots/)[0-9a-f]{64}`)

// TestBackupFaults makes each save of a stream backup fail in turn, with a
// full disk or a torn write: the backup returns the cause and the file's
// name, saves no snapshot, leaves no temporary file, the snapshot before
// still restores, the same backup run again succeeds, and after a prune
// (which removes the packs the failed backup left) the repository checks
// clean (repotest's check).
func TestBackupFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	first := genData(t, 512<<10)
	// Then new, incompressible data: two packs.
	second := append(bytes.Clone(first), randomData(1200<<10)...)
	// The first snapshot, copied for each step.
	tmpl := mem.New()
	sn1, err := archive.BackupStream(ctx, repotest.NewOn(t, tmpl), bytes.NewReader(first), "export.tsv", archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := backupBase{tmpl: tmpl, sn1: sn1, first: first, second: second}
	for _, f := range []struct {
		name   string
		local  bool
		inject func(be *faulty.Backend, n int)
	}{
		{"disk-full", false, func(be *faulty.Backend, n int) { be.FailSaveAfter(n, faulty.ErrDiskFull) }},
		{"torn-write", true, func(be *faulty.Backend, n int) { be.ShortWrite(nthSave(n), 1000, faulty.ErrDiskFull) }},
	} {
		t.Run(f.name, func(t *testing.T) {
			steps := 0
			for n, failed := 1, true; failed; n++ {
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					failed = base.withFault(t, f.local, func(be *faulty.Backend) { f.inject(be, n) })
				})
				if failed {
					steps++
				}
			}
			t.Logf("the backup failed cleanly at each of its %d saves", steps)
			if steps < 4 {
				t.Errorf("only %d saves failed; the test wants several packs, the index and the snapshot", steps)
			}
		})
	}
}

// nthSave accepts the n-th handle it is asked about and every one after.
func nthSave(n int) func(backend.Handle) bool {
	var seen atomic.Int64
	return func(backend.Handle) bool { return seen.Add(1) >= int64(n) }
}

// backupBase is a repository holding snapshot sn1 of first, and the data
// of the next backup.
type backupBase struct {
	tmpl          backend.Storage
	sn1           *repo.Snapshot
	first, second []byte
}

// withFault backs up second on a copy of the base with the fault
// injected, checks the outcome, and reports whether the fault made the
// backup fail. The copy is checked when t ends.
func (b backupBase) withFault(t *testing.T, onDisk bool, inject func(*faulty.Backend)) bool {
	var inner backend.Storage = mem.New()
	dir := t.TempDir()
	if onDisk {
		var err error
		if inner, err = local.Create(dir); err != nil {
			t.Fatal(err)
		}
	}
	repotest.CopyFiles(t, b.tmpl, inner)
	be := faulty.New(inner)
	t.Cleanup(func() { repotest.CheckClean(t, be) })
	sn1, first, second := b.sn1, b.first, b.second

	inject(be)
	_, err := archive.BackupStream(ctx, repotest.Reopen(t, be), bytes.NewReader(second), "export.tsv", archive.Options{Parent: sn1})
	be.Clear()
	if err != nil {
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("backup failed with %v, want ENOSPC", err)
		}
		if !fileName.MatchString(err.Error()) {
			t.Errorf("the error names no repository file: %v", err)
		}
		if strings.Contains(err.Error(), "reading stdin") {
			t.Errorf("a failed write to the repository is reported as reading stdin: %v", err)
		}
		if sns, lerr := repotest.Reopen(t, be).Snapshots(ctx); lerr != nil || len(sns) != 1 {
			t.Errorf("after the failed backup: %d snapshots (%v), want the first only", len(sns), lerr)
		}
		t.Logf("backup: %v", err)
	}
	if onDisk {
		noTempFiles(t, dir)
	}
	wantDump(t, repotest.Reopen(t, be), sn1, first)
	sn2, err2 := archive.BackupStream(ctx, repotest.Reopen(t, be), bytes.NewReader(second), "export.tsv", archive.Options{Parent: sn1})
	if err2 != nil {
		t.Fatalf("backup after the fault: %v", err2)
	}
	if _, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: prune.DefaultMaxUnused}); err != nil {
		t.Fatalf("prune after the fault: %v", err)
	}
	r := repotest.Reopen(t, be)
	wantDump(t, r, sn1, first)
	wantDump(t, r, sn2, second)
	return err != nil
}

// TestBackupUnreadableParent backs up a folder whose parent snapshot
// cannot be read (every pack load fails, as on a failing disk): the backup
// reads every file again and says why, and a restore under the same
// fault names the pack it could not read.
func TestBackupUnreadableParent(t *testing.T) {
	be := faulty.New(mem.New())
	r := repotest.NewOn(t, be)
	src := t.TempDir()
	files := map[string][]byte{"a.tsv": genData(t, 1<<20), "b.bin": randomData(300 << 10)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first, err := archive.BackupPaths(ctx, r, []string{src}, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}

	eio := fmt.Errorf("injected fault: %w", syscall.EIO)
	be.FailLoad(func(h backend.Handle) bool { return h.Type == backend.PackFile }, eio)
	var notices []string
	second, err := archive.BackupPaths(ctx, repotest.Reopen(t, be), []string{src}, archive.Options{
		Parent: first, Logger: repotest.Notices(func(msg string) { notices = append(notices, msg) }),
	})
	if err != nil {
		t.Fatalf("backup with an unreadable parent: %v", err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "parent snapshot "+first.ID.Short()+" unreadable") ||
		!fileName.MatchString(notices[0]) || !strings.Contains(notices[0], "input/output error") {
		t.Errorf("notices %q: want one naming the parent snapshot, the pack and the cause", notices)
	}
	if s := second.Summary; s.FilesUnchanged != 0 || s.BytesRead != uint64(len(files["a.tsv"])+len(files["b.bin"])) {
		t.Errorf("summary %+v: want every file read again", s)
	}
	err = restore.Dump(ctx, repotest.Reopen(t, be), second.Tree, filepath.Join(src, "a.tsv"), &bytes.Buffer{})
	if !errors.Is(err, syscall.EIO) || !fileName.MatchString(err.Error()) {
		t.Errorf("restore with failing loads: %v; want EIO and the pack's name", err)
	}
	t.Logf("restore: %v", err)

	be.Clear()
	for name, data := range files {
		var out bytes.Buffer
		if err := restore.Dump(ctx, repotest.Reopen(t, be), second.Tree, filepath.Join(src, name), &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%s restores differently (%v)", name, err)
		}
	}
}

func wantDump(t *testing.T, r *repo.Repository, sn *repo.Snapshot, want []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := restore.Dump(ctx, r, sn.Tree, "/export.tsv", &out); err != nil {
		t.Fatalf("snapshot %s: %v", sn.ID.Short(), err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("snapshot %s restores other bytes than it saved", sn.ID.Short())
	}
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("a failed save left %s", p)
		}
		return err
	})
}

func randomData(n int) []byte {
	b := make([]byte, n+8)
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}
