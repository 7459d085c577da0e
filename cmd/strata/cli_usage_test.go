package main

import (
	"os"
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
		{[]string{"guard", "--", "true"}, "missing required flag --db"},
		{[]string{"repair", "index", "--dry-rnu"}, "(see strata repair index --help)"},
		{[]string{"key", "add", "--bogus"}, "(see strata key add --help)"},
		{[]string{"--retry-lock", "-5m", "snapshots"}, "--retry-lock -5m0s: want a duration of 0 or more"},
		// Commands that take no arguments refuse one rather than ignore it.
		{[]string{"snapshots", "latest"}, `strata: snapshots takes no arguments, got "latest" (see strata snapshots --help)`},
		{[]string{"check", "--read-data", "1/10"}, `check takes no arguments, got "1/10"`},
		{[]string{"prune", "--dry-run", "now"}, `prune takes no arguments, got "now"`},
		{[]string{"key", "list", "x"}, `key list takes no arguments, got "x"`},
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

// TestVersionFlag: --version prints what `strata version` prints.
func TestVersionFlag(t *testing.T) {
	c := newCLI(t)
	want := c.ok("version")
	if got := c.ok("--version"); got != want || !strings.HasPrefix(got, "strata ") {
		t.Errorf("strata --version printed %q, strata version %q", got, want)
	}
}

// TestEmptyPasswordFile: an empty password file is named as empty, not
// taken for a wrong password.
func TestEmptyPasswordFile(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	if err := os.WriteFile(c.pwFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitError, "snapshots")
	if want := "password file " + c.pwFile + " is empty"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

// TestJSONBeforeCommand: --json in front of the command, where restic
// users put their global --json, is the command's --json.
func TestJSONBeforeCommand(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("a\n"), "a.txt")
	if out := c.ok("--json", "snapshots"); !strings.HasPrefix(out, "[") || !strings.Contains(out, `"short_id"`) {
		t.Errorf("strata --json snapshots printed %q, want the JSON array", out)
	}
	if out := c.ok("-q", "--json", "key", "list"); !strings.HasPrefix(out, "[") {
		t.Errorf("strata -q --json key list printed %q, want JSON", out)
	}
	if _, errOut := c.code(exitError, "--json", "ls", "nosuch"); !strings.HasPrefix(errOut, `{"message_type":"exit_error"`) {
		t.Errorf("strata --json ls nosuch: stderr %q, want the JSON error", errOut)
	}
	// A command without --json still refuses it, as one line.
	if _, errOut := c.code(exitError, "--json", "unlock"); !strings.Contains(errOut, "unknown flag --json") {
		t.Errorf("strata --json unlock: stderr %q", errOut)
	}
}
