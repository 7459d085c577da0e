package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/syncbuf"
	"strata/repo"
	"strata/repo/crypto"
)

// forgetFile forgets one snapshot, so prune has something to free.
func (c *tcli) forgetFile(id string) {
	c.t.Helper()
	c.ok("forget", id[:8])
}

// allFiles maps every file under the repository to its size.
func (c *tcli) allFiles() map[string]int64 {
	c.t.Helper()
	out := map[string]int64{}
	_ = filepath.Walk(c.repo, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.Contains(p, string(filepath.Separator)+"locks"+string(filepath.Separator)) {
			out[p] = fi.Size()
		}
		return nil
	})
	return out
}

func TestPruneCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	var ids []string
	var last []byte
	for i := range 3 {
		last = randomBytes(uint64(i+1), 3<<20)
		ids = append(ids, c.backupStdin(last, "dump.sql"))
	}
	c.forgetFile(ids[0])
	c.forgetFile(ids[1])

	before := c.allFiles()
	out := c.ok("prune", "--dry-run")
	for _, want := range []string{"snapshots:   1", "to delete", "would free:"} {
		if !strings.Contains(out, want) {
			t.Errorf("prune --dry-run output lacks %q:\n%s", want, out)
		}
	}
	if after := c.allFiles(); !maps.Equal(before, after) {
		t.Fatalf("prune --dry-run changed the repository")
	}

	sizeBefore := c.repoSize()
	out = c.ok("prune", "--json")
	var rep struct {
		Snapshots    int   `json:"snapshots"`
		PacksDeleted int   `json:"packs_deleted"`
		BytesFreed   int64 `json:"bytes_freed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("prune --json: %v\n%s", err, out)
	}
	if rep.Snapshots != 1 || rep.PacksDeleted == 0 || rep.BytesFreed < 4<<20 {
		t.Errorf("prune --json = %+v; want 1 snapshot, packs deleted, over 4 MiB freed", rep)
	}
	if got := sizeBefore - c.repoSize(); got < rep.BytesFreed {
		t.Errorf("repository shrank by %d bytes, prune reported %d", got, rep.BytesFreed)
	}
	c.ok("check", "--read-data")
	if got := c.ok("dump", ids[2], "/dump.sql"); !bytes.Equal([]byte(got), last) {
		t.Errorf("the kept snapshot dumps differently after prune")
	}
	if out := c.ok("prune"); !strings.Contains(out, "freed:       0 B") {
		t.Errorf("a second prune freed something:\n%s", out)
	}
	if out := c.ok("prune"); !strings.Contains(out, "index:       0 files written, 0 removed") {
		t.Errorf("a prune with nothing to do rewrote the index:\n%s", out)
	}
}

func TestRetryLock(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("first\n"), "a.txt")
	lock, err := c.openAPI(repo.Options{}).Lock(context.Background(), true, "test holder")
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = []byte("second\n")
	_, errOut := c.code(exitLocked, "backup", "--stdin", "--retry-lock", "300ms")
	if !strings.Contains(errOut, "gave up after --retry-lock 300ms") || !strings.Contains(errOut, "test holder") {
		t.Errorf("backup --retry-lock stderr:\n%s", errOut)
	}
	// The holder lets go once prune says it waits (not after a fixed
	// time, which a loaded machine may take to open the repository).
	stderr := &waitWriter{want: "waiting up to 20s", seen: make(chan struct{})}
	unlocked := make(chan struct{})
	go func() {
		defer close(unlocked)
		select {
		case <-stderr.seen:
		case <-time.After(time.Minute):
		}
		_ = lock.Unlock(context.Background())
	}()
	e := &env{stdin: bytes.NewReader(nil), stdout: &bytes.Buffer{}, stderr: stderr,
		getenv: func(k string) string { return c.vars[k] }, kdf: crypto.CheapKDFParams()}
	code := runInProcess([]string{"--retry-lock", "20s", "prune"}, e)
	<-unlocked
	if !strings.Contains(stderr.String(), "waiting up to 20s") {
		t.Fatalf("prune did not say it waits:\n%s", stderr)
	}
	if code != 0 {
		t.Fatalf("prune --retry-lock: exit %d\n%s", code, stderr)
	}
}

// waitWriter collects a command's stderr and closes seen once it holds
// want.
type waitWriter struct {
	syncbuf.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *waitWriter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.Buffer.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}
