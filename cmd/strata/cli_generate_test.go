package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateCompletion runs the bash completion script in bash and
// checks what it offers; the zsh and fish scripts are checked for their
// content and, where the shell is installed, their syntax.
func TestGenerateCompletion(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "strata.bash")
	writeFile0600(t, script, c.ok("generate", "--completion", "bash"))
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed for this test")
	}
	complete := func(words ...string) string {
		t.Helper()
		args := append([]string{"-c", `source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); _strata; echo "${COMPREPLY[@]}"`, script}, words...)
		cmd := exec.Command("bash", args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash completion of %v: %v\n%s", words, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tt := range []struct {
		words []string
		want  []string
	}{
		{[]string{"strata", "ba"}, []string{"backup"}},
		{[]string{"strata", "backup", "--exc"}, []string{"--exclude", "--exclude-file", "--exclude-caches", "--exclude-tables"}},
		{[]string{"strata", "key", "a"}, []string{"add"}},
		{[]string{"strata", "restore", "latest", "--inc"}, []string{"--include"}},
		{[]string{"strata", "--re"}, []string{"--repo", "--retry-lock"}},
	} {
		got := strings.Fields(complete(tt.words...))
		for _, w := range tt.want {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+w+" ") {
				t.Errorf("completing %v offers %v, lacks %s", tt.words, got, w)
			}
		}
	}
	for shell, want := range map[string]string{"zsh": "compdef _strata strata", "fish": "complete -c strata -n '__fish_seen_subcommand_from backup' -l exclude -s e -r"} {
		out := c.ok("generate", "--completion", shell)
		if !strings.Contains(out, want) {
			t.Errorf("%s completion lacks %q", shell, want)
		}
		if _, err := exec.LookPath(shell); err == nil {
			f := filepath.Join(dir, "strata."+shell)
			writeFile0600(t, f, out)
			if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	c.code(exitError, "generate", "--completion", "tcsh")
	c.code(exitError, "generate")
}

// TestGenerateMan writes the man pages and, where groff is installed,
// renders one without warnings.
func TestGenerateMan(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Join(t.TempDir(), "man1")
	c.ok("generate", "--man", dir)
	for _, name := range []string{"strata.1", "strata-backup.1", "strata-key-add.1", "strata-find.1", "strata-tag.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), ".SH NAME") || !strings.Contains(string(b), ".SH SEE ALSO") {
			t.Errorf("%s is no man page:\n%s", name, b)
		}
	}
	backup := string(readFile(t, filepath.Join(dir, "strata-backup.1")))
	if !strings.Contains(backup, `\fB\-\-exclude, \-e\fP \fIVALUE\fP`) {
		t.Errorf("strata-backup.1 lacks --exclude:\n%s", backup)
	}
	if _, err := os.Stat(filepath.Join(dir, "strata-help.1")); err == nil {
		t.Error("a page for the help command")
	}
	if _, err := exec.LookPath("groff"); err == nil {
		out, err := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", filepath.Join(dir, "strata-restore.1")).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff warns about strata-restore.1: %v\n%s", err, out)
		}
	}
}
