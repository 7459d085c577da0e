package procgroup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// escapeCommand starts a process that leaves the command's group and
// session (setsid) holding its output, and exits once that process has
// written its PID to mark (before it escaped, a group SIGTERM could
// still reach it).
func escapeCommand(mark string) string {
	return `(setsid sh -c 'echo $$ > ` + mark + `.tmp; mv ` + mark + `.tmp ` + mark + `; exec sleep 120' &); ` +
		`while [ ! -s ` + mark + ` ]; do sleep 0.05; done; echo done-before`
}

// escapedPID reads the escaped process's PID and kills it when the test
// ends.
func escapedPID(t *testing.T, mark string) int {
	t.Helper()
	b, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// A command whose escaped process holds its output returns once the
// command has exited, with its status, and says which process holds the
// output; it was waited for as long as that process ran.
func TestRunDoesNotWaitForEscapedProcess(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "pid")
	ctx := context.Background()
	var out bytes.Buffer
	// A short grace: the escaped process ignores the SIGTERM and SIGKILL
	// anyway, and the test need not wait DefaultGrace for that.
	grace := 100 * time.Millisecond
	err := Run(Shell(ctx, escapeCommand(mark), grace), &out, grace)
	pid := escapedPID(t, mark)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if syscall.Kill(pid, 0) != nil {
		t.Fatalf("Run returned only once the escaped process %d ended", pid)
	}
	want := "still holds its output (PID " + strconv.Itoa(pid) + ")"
	if s := out.String(); !strings.Contains(s, "done-before") || !strings.Contains(s, want) {
		t.Fatalf("output %q lacks done-before or %q", s, want)
	}
}

// A cancelled command (a timeout, the daemon's stop) ends with its
// group, not with the process that left it holding the output.
func TestRunCancelledDoesNotWaitForEscapedProcess(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The command waits for the test to cancel it after the escape.
	command := escapeCommand(mark) + `; while :; do sleep 0.05; done`
	cmd := Shell(ctx, command, 0)
	errc := make(chan error, 1)
	var out lockedBuffer
	go func() { errc <- Run(cmd, &out, 0) }()
	for !strings.Contains(out.String(), "done-before") {
		select {
		case err := <-errc:
			t.Fatalf("Run ended early: %v\n%s", err, out.String())
		default:
			time.Sleep(20 * time.Millisecond)
		}
	}
	pid := escapedPID(t, mark)
	cancel()
	if err := <-errc; err == nil {
		t.Fatalf("a cancelled command succeeded:\n%s", out.String())
	}
	if syscall.Kill(pid, 0) != nil {
		t.Fatalf("Run returned only once the escaped process %d ended", pid)
	}
	if !strings.Contains(out.String(), "still holds its output") {
		t.Fatalf("output %q does not say the output is held", out.String())
	}
}

// lockedBuffer is a bytes.Buffer read while Run writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
