package procgroup

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"strata/internal/proctest"
	"strata/internal/syncbuf"
)

// escapeCommand runs proctest.EscapingCommand and then says done-before.
func escapeCommand(t *testing.T, mark string) string {
	t.Helper()
	return proctest.EscapingCommand(t, mark) + "; echo done-before"
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
	err := Run(Shell(ctx, escapeCommand(t, mark), grace), &out, grace)
	pid := proctest.EscapedPID(t, mark)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if proctest.Gone(pid) {
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
	command := escapeCommand(t, mark) + `; while :; do sleep 0.05; done`
	cmd := Shell(ctx, command, 0)
	errc := make(chan error, 1)
	var out syncbuf.Buffer
	go func() { errc <- Run(cmd, &out, 0) }()
	for !strings.Contains(out.String(), "done-before") {
		select {
		case err := <-errc:
			t.Fatalf("Run ended early: %v\n%s", err, out.String())
		default:
			time.Sleep(20 * time.Millisecond)
		}
	}
	pid := proctest.EscapedPID(t, mark)
	cancel()
	if err := <-errc; err == nil {
		t.Fatalf("a cancelled command succeeded:\n%s", out.String())
	}
	if proctest.Gone(pid) {
		t.Fatalf("Run returned only once the escaped process %d ended", pid)
	}
	if !strings.Contains(out.String(), "still holds its output") {
		t.Fatalf("output %q does not say the output is held", out.String())
	}
}
