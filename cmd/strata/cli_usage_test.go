package main

import (
	"strings"
	"testing"
)

// TestMistypedCommandsAndFlags: a typo exits 1 with one line that names
// what was typed and the nearest command or flag; no page of help.
func TestMistypedCommandsAndFlags(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backpu"}, `unknown command "backpu": did you mean backup?`},
		{[]string{"restor", "latest"}, `unknown command "restor": did you mean restore?`},
		{[]string{"-q", "snapshtos"}, `unknown command "snapshtos": did you mean snapshots?`},
		{[]string{"key", "lsit"}, `unknown command "key lsit": did you mean key list?`},
		{[]string{"xyzzy"}, `unknown command "xyzzy" (see strata help)`},
		{[]string{"forget", "--keep-dayly", "7"}, "unknown flag --keep-dayly: did you mean --keep-daily?"},
		{[]string{"forget", "--keep-dayly=7", "--dry-run"}, "unknown flag --keep-dayly: did you mean --keep-daily?"},
		{[]string{"snapshots", "-jsno"}, "unknown flag -jsno: did you mean --json?"},
		{[]string{"--rpo", "x", "snapshots"}, "unknown flag --rpo: did you mean --repo?"},
		{[]string{"backup", "--stdin", "--jobs", "many"}, `invalid value "many" for flag --jobs`},
		{[]string{"snapshots", "--host"}, "flag needs an argument: --host"},
	} {
		out, errOut := c.code(exitError, tt.args...)
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("strata %q: stderr lacks %q:\n%s", tt.args, tt.want, errOut)
		}
		if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 || out != "" {
			t.Errorf("strata %q: want one line on stderr and nothing on stdout, got %d lines:\n%s%s", tt.args, lines, out, errOut)
		}
	}
}
