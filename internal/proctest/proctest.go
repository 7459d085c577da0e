package proctest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// EscapingCommand writes a script beside mark and returns the shell
// command that runs it: it starts a process which leaves its process
// group and session (setsid) holding the command's output, and exits once
// that process has written its PID to mark (before it escaped, the
// group's SIGTERM could still reach it). The script keeps the command
// free of quotes, so it fits into a YAML string too.
func EscapingCommand(t testing.TB, mark string) string {
	t.Helper()
	script := mark + ".sh"
	body := `(setsid sh -c 'echo $$ > ` + mark + `.tmp; mv ` + mark + `.tmp ` + mark + `; exec sleep 300' &)
while [ ! -s ` + mark + ` ]; do sleep 0.05; done
`
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return "sh " + script
}

// EscapedPID returns the PID EscapingCommand's process wrote to mark, and
// kills that process when the test ends.
func EscapedPID(t testing.TB, mark string) int {
	t.Helper()
	pid, err := ReadPID(mark)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// ReadPID returns the PID in the PID file path, or an error while the
// file is missing or not yet written to its end (its newline).
func ReadPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if !strings.HasSuffix(string(b), "\n") {
		return 0, fmt.Errorf("%s: no whole PID yet (%q)", path, b)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no PID (%q)", path, b)
	}
	return pid, nil
}

// Gone reports whether pid no longer runs: it does not exist, or is a
// zombie waiting to be reaped (its parent died before it).
func Gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
