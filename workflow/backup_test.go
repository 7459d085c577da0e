package workflow_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/repo"
	"strata/repo/repotest"
	"strata/workflow"
)

// logBuffer is a slog handler that keeps the records' levels and
// messages, safe for the goroutines of a workflow.
type logBuffer struct {
	mu   sync.Mutex
	recs []string
}

func (b *logBuffer) Enabled(context.Context, slog.Level) bool { return true }
func (b *logBuffer) Handle(_ context.Context, r slog.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recs = append(b.recs, r.Level.String()+" "+r.Message)
	return nil
}
func (b *logBuffer) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *logBuffer) WithGroup(string) slog.Handler      { return b }

func (b *logBuffer) has(prefix, part string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.recs {
		if strings.HasPrefix(r, prefix) && strings.Contains(r, part) {
			return true
		}
	}
	return false
}

// newSQLite creates the SQLite database shop.db in a new temporary
// folder, runs stmts in it and returns its path.
func newSQLite(t *testing.T, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBackupFilesFindsParent(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "first file\n")
	writeFile(t, filepath.Join(dir, "b.txt"), strings.Repeat("second file\n", 1000))
	logs := &logBuffer{}
	req := workflow.BackupRequest{Paths: []string{dir}, Host: "h1", Tier: "daily", Tags: []string{"t"}, Logger: slog.New(logs)}

	first, err := workflow.Backup(ctx, r, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Parent != nil || first.DryRun || first.Snapshot == nil {
		t.Fatalf("first backup: parent %v, dry run %v, snapshot %v; want a snapshot without parent", first.Parent, first.DryRun, first.Snapshot)
	}
	if s := first.Snapshot.Summary; s.FilesNew != 2 || s.FilesUnchanged != 0 || first.FilesProcessed != 2 {
		t.Fatalf("first backup: summary %+v, %d files processed; want 2 new", s, first.FilesProcessed)
	}
	if first.Snapshot.Tier != "daily" || first.Snapshot.Host != "h1" {
		t.Fatalf("snapshot tier %q host %q, want daily, h1", first.Snapshot.Tier, first.Snapshot.Host)
	}
	if !logs.has("DEBUG", "shared lock taken for backup") || !logs.has("DEBUG-4", "new") {
		t.Fatalf("log %q: want the lock step (Debug) and each file (LevelFile)", logs.recs)
	}

	writeFile(t, filepath.Join(dir, "a.txt"), "first file, changed\n")
	second, err := workflow.Backup(ctx, r, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Parent == nil || second.Parent.ID != first.Snapshot.ID {
		t.Fatalf("second backup's parent %v, want %s", second.Parent, first.Snapshot.ID.Short())
	}
	if s := second.Snapshot.Summary; s.FilesChanged != 1 || s.FilesUnchanged != 1 {
		t.Fatalf("second backup: summary %+v, want 1 changed and 1 unchanged", s)
	}
}

func TestBackupStdinDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	rep, err := workflow.Backup(ctx, r, workflow.BackupRequest{Stdin: strings.NewReader("a stream\n"), StdinName: "dump.sql", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.Snapshot.Summary.BytesAdded == 0 {
		t.Fatalf("report %+v: want a dry run that would add bytes", rep)
	}
	sns, err := r.Snapshots(ctx)
	if err != nil || len(sns) != 0 {
		t.Fatalf("after a dry run: %d snapshots (%v), want none", len(sns), err)
	}
}

func TestBackupRefusesRequestsWithoutOneSource(t *testing.T) {
	r, _ := repotest.New(t)
	for name, req := range map[string]workflow.BackupRequest{
		"none":          {},
		"two":           {Paths: []string{"."}, Stdin: strings.NewReader("x")},
		"database dry":  {Database: &workflow.DatabaseSource{DSN: "sqlite:x.db"}, DryRun: true},
		"time too late": {Stdin: strings.NewReader("x"), Time: time.Now().Add(48 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := workflow.Backup(context.Background(), r, req); err == nil {
				t.Fatal("Backup succeeded, want an error")
			}
		})
	}
}

func TestBackupSQLiteTellsSchemaWarningsOnce(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	path := newSQLite(t,
		"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
		"INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')",
		// columns that hide the rowid: a schema warning
		"CREATE TABLE events (rowid INT, _rowid_ INT, oid INT, what TEXT)",
		"INSERT INTO events VALUES (1, 2, 3, 'opened')",
	)

	logs := &logBuffer{}
	req := workflow.BackupRequest{Database: &workflow.DatabaseSource{DSN: "sqlite://" + path}, Host: "h1", Logger: slog.New(logs)}
	first, err := workflow.Backup(ctx, r, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.Snapshot.Source, "sqlite:") || first.Snapshot.Summary.FilesNew != 2 {
		t.Fatalf("snapshot source %q, summary %+v: want the 2 tables of a sqlite source", first.Snapshot.Source, first.Snapshot.Summary)
	}
	if !logs.has("WARN", "table events: its rowid is not saved") {
		t.Fatalf("log %q: want a notice about the table whose rowid is not saved", logs.recs)
	}

	again := &logBuffer{}
	req.Logger = slog.New(again)
	second, err := workflow.Backup(ctx, r, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Parent == nil || second.Parent.ID != first.Snapshot.ID {
		t.Fatalf("second backup's parent %v, want %s", second.Parent, first.Snapshot.ID.Short())
	}
	if again.has("WARN", "rowid") {
		t.Fatalf("log %q: the parent records the warning, so it is not told again", again.recs)
	}
}

func TestBackupWaitsForLock(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	other := repotest.Reopen(t, be)
	held, err := other.Lock(ctx, true, "prune")
	if err != nil {
		t.Fatal(err)
	}
	req := workflow.BackupRequest{Stdin: strings.NewReader("data\n")}

	_, err = workflow.Backup(ctx, r, req)
	if !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("Backup under another's exclusive lock: %v, want repo.ErrLocked", err)
	}

	logs := &logBuffer{}
	req.Stdin, req.Logger, req.Lock.RetryLock = bytes.NewReader([]byte("data\n")), slog.New(logs), time.Minute
	done := make(chan error, 1)
	go func() {
		_, err := workflow.Backup(ctx, r, req)
		done <- err
	}()
	for !logs.has("INFO", "waiting up to 1m0s") {
		select {
		case err := <-done:
			t.Fatalf("Backup ended (%v) before waiting for the lock", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Backup after the lock was released: %v", err)
	}
}

// slowTurn is a StepAside whose turn never comes back while the test
// runs: another job of the daemon holds the repository.
type slowTurn struct{}

func (slowTurn) Release()                          {}
func (slowTurn) Reclaim(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

// TestLockWaitEndsWhileSteppedAside: a workflow waiting for another
// process's lock, stepped aside, gives up at its RetryLock even when its
// turn has not come back, with the lock's error. Before, it waited for
// the turn past the limit (a daemon job past repository.lock_wait for as
// long as the job holding its turn ran).
func TestLockWaitEndsWhileSteppedAside(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	other := repotest.Reopen(t, be)
	if _, err := other.Lock(ctx, true, "prune"); err != nil {
		t.Fatal(err)
	}
	req := workflow.BackupRequest{Stdin: strings.NewReader("data\n")}
	req.Lock.RetryLock, req.Lock.RetryLockFrom, req.Lock.StepAside = 200*time.Millisecond, "repository.lock_wait", slowTurn{}
	done := make(chan error, 1)
	go func() {
		_, err := workflow.Backup(ctx, r, req)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, repo.ErrLocked) || !strings.Contains(err.Error(), "gave up after repository.lock_wait 200ms") {
			t.Fatalf("Backup stepped aside past its lock wait: %v, want repo.ErrLocked, gave up", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Backup still waits for its turn a minute after its lock wait of 200ms ended")
	}
}
