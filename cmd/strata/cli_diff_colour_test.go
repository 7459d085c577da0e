package main

import (
	"bytes"
	"strings"
	"testing"

	"strata/repo/crypto"
)

// TestDiffColourOnTerminal: `diff --format text` colours its changes on a
// terminal, and not when NO_COLOR is set (to anything) or TERM is dumb
// (NO_COLOR was ignored before).
func TestDiffColourOnTerminal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := diffSQLite(t, 10)
	c.ok("backup", "--db", "sqlite://"+path)
	execAll(t, db, `UPDATE customers SET email = 'changed' WHERE id = 3`)
	c.ok("backup", "--db", "sqlite://"+path)
	for _, tc := range []struct {
		name, key, value string
		colour           bool
	}{
		{"terminal", "", "", true},
		{"NO_COLOR", "NO_COLOR", "1", false},
		{"TERM=dumb", "TERM", "dumb", false},
	} {
		var out, errOut bytes.Buffer
		e := &env{
			stdin: bytes.NewReader(nil), stdout: &out, stderr: &errOut, stdoutTTY: true,
			getenv: func(k string) string {
				if k == tc.key {
					return tc.value
				}
				return c.vars[k]
			},
			kdf: crypto.CheapKDFParams(),
		}
		if code := runInProcess([]string{"diff", "latest~1", "latest", "--format", "text"}, e); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errOut.String())
		}
		if !strings.Contains(out.String(), "changed") {
			t.Fatalf("%s: the change is not shown:\n%s", tc.name, out.String())
		}
		if got := strings.Contains(out.String(), "\x1b["); got != tc.colour {
			t.Errorf("%s: colour %v, want %v:\n%q", tc.name, got, tc.colour, out.String())
		}
	}
}
