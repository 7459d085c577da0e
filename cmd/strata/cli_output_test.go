package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/repo/crypto"
)

// runTTY runs a command as c.run does, but says whether stderr is a
// terminal.
func (c *tcli) runTTY(tty bool, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{
		stdin: bytes.NewReader(c.stdin), stdout: &out, stderr: &errOut,
		getenv:    func(k string) string { return c.vars[k] },
		kdf:       crypto.CheapKDFParams(),
		stderrTTY: tty,
	}
	c.stdin = nil
	code := runInProcess(args, e)
	return out.String(), errOut.String(), code
}

func TestQuiet(t *testing.T) {
	t.Parallel()
	data := sampleData(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.tsv"), data[:200<<10], 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		tty  bool // a terminal: --quiet must still hide the progress bar
	}{
		{"--quiet before the command", []string{"--quiet", "backup", "--stdin"}, false},
		{"-q before the command", []string{"-q", "backup", "--stdin"}, false},
		{"--quiet after the command", []string{"backup", "--stdin", "--quiet"}, false},
		{"-q after the command", []string{"backup", "-q", "--stdin"}, false},
		{"paths", []string{"-q", "backup", src}, false},
		{"paths on a terminal", []string{"-q", "backup", src}, true},
		{"stdin on a terminal", []string{"backup", "--quiet", "--stdin"}, true},
	}
	c := newCLI(t)
	if out, errOut, code := c.run("-q", "init"); code != 0 || out != "" || errOut != "" {
		t.Fatalf("init -q: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := c.as(t, c.pwFile)
			d.stdin = data
			out, errOut, code := d.runTTY(tt.tty, tt.args...)
			if code != 0 || out != "" || errOut != "" {
				t.Errorf("strata %s: exit %d, stdout %q, stderr %q; want silence", strings.Join(tt.args, " "), code, out, errOut)
			}
		})
	}
	// Requested output is still printed.
	c.stdin = data
	if out := c.ok("-q", "backup", "--stdin", "--json"); !strings.HasPrefix(out, `{"message_type":"summary","id":"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("backup -q --json printed %q", out)
	}
	target := t.TempDir()
	if out, errOut, code := c.run("restore", "-q", "latest", "--target", target); code != 0 || out != "" || errOut != "" {
		t.Errorf("restore -q: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := readFile(t, filepath.Join(target, "stdin")); !bytes.Equal(got, data) {
		t.Errorf("restore -q restored %d bytes, want %d", len(got), len(data))
	}
}

// TestNoProgressWithoutTerminal runs the long commands with stderr in a
// buffer, as in a pipe or a cron job: no progress bar may appear there.
func TestNoProgressWithoutTerminal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	target := t.TempDir()
	for _, args := range [][]string{
		{"backup", "--stdin"},
		{"backup", "--stdin", "--json"},
		{"restore", "latest", "--target", target},
		{"check", "--read-data"},
		{"stats"},
		{"dump", "latest", "/stdin"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			d := c.as(t, c.pwFile)
			d.stdin = data
			out, errOut, code := d.run(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, s := range []string{out, errOut} {
				if strings.Contains(s, "\r") || strings.Contains(s, "/s ") || strings.Contains(s, "ETA") {
					t.Errorf("progress output without a terminal:\n%q", s)
				}
			}
		})
	}
}

func TestPasswordSources(t *testing.T) {
	t.Parallel()
	const pw = "correct-horse-7731"
	dir := t.TempDir()
	right := filepath.Join(dir, "right")
	writeFile0600(t, right, pw+"\r\n")
	wrong := filepath.Join(dir, "wrong")
	writeFile0600(t, wrong, "wrong-password\n")

	c := newCLI(t)
	c.vars = map[string]string{"STRATA_REPOSITORY": c.repo, "STRATA_PASSWORD_COMMAND": "echo " + pw}
	c.ok("init")
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string // in stderr
	}{
		{"command", map[string]string{"STRATA_PASSWORD_COMMAND": "echo " + pw}, nil, exitOK, ""},
		{"command printing to its stderr too", map[string]string{"STRATA_PASSWORD_COMMAND": "echo noise >&2; printf '%s\\n' " + pw}, nil, exitOK, ""},
		{"environment", map[string]string{"STRATA_PASSWORD": pw}, nil, exitOK, ""},
		{"file with CRLF", map[string]string{"STRATA_PASSWORD_FILE": right}, nil, exitOK, ""},
		{"--password-file beats the environment", map[string]string{"STRATA_PASSWORD": "wrong", "STRATA_PASSWORD_FILE": wrong}, []string{"--password-file", right}, exitOK, ""},
		{"STRATA_PASSWORD_FILE beats STRATA_PASSWORD", map[string]string{"STRATA_PASSWORD_FILE": right, "STRATA_PASSWORD": "wrong"}, nil, exitOK, ""},
		{"STRATA_PASSWORD beats the command", map[string]string{"STRATA_PASSWORD": pw, "STRATA_PASSWORD_COMMAND": "echo wrong"}, nil, exitOK, ""},
		{"wrong command output", map[string]string{"STRATA_PASSWORD_COMMAND": "echo wrong"}, nil, exitWrongPass, "wrong password or no key found"},
		{"empty command output", map[string]string{"STRATA_PASSWORD_COMMAND": "true"}, nil, exitWrongPass, "wrong password or no key found"},
		{"failing command", map[string]string{"STRATA_PASSWORD_COMMAND": "echo " + pw + "; exit 3"}, nil, exitError, "STRATA_PASSWORD_COMMAND failed: exit status 3"},
		{"missing file", map[string]string{"STRATA_PASSWORD_FILE": filepath.Join(dir, "missing")}, nil, exitError, "reading password file"},
		{"nothing at all", nil, nil, exitError, "no password given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := c.as(t, "")
			d.vars = map[string]string{"STRATA_REPOSITORY": c.repo}
			for k, v := range tt.vars {
				d.vars[k] = v
			}
			out, errOut := d.code(tt.code, append(tt.args, "snapshots")...)
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q, want %q", errOut, tt.want)
			}
			if strings.Contains(out+errOut, pw) {
				t.Errorf("the password appears in the output:\nstdout: %s\nstderr: %s", out, errOut)
			}
		})
	}
}

// TestPasswordNeverShown runs every command with the password from
// STRATA_PASSWORD_COMMAND and looks for the password in every output and
// in every byte of every repository file.
func TestPasswordNeverShown(t *testing.T) {
	t.Parallel()
	const pw = "s3cret-Passw0rd-for-grep"
	dir := t.TempDir()
	newPw := filepath.Join(dir, "new")
	writeFile0600(t, newPw, pw+"-second\n")
	c := newCLI(t)
	c.vars = map[string]string{"STRATA_REPOSITORY": c.repo, "STRATA_PASSWORD_COMMAND": "echo " + pw}
	var all strings.Builder
	run := func(args ...string) string {
		t.Helper()
		out, errOut := c.code(exitOK, args...)
		all.WriteString(out + errOut)
		return out
	}
	run("init")
	c.stdin = sampleData(t)[:300<<10]
	run("backup", "--stdin", "--stdin-name", "db.sql", "--tag", "t", "--json")
	src := t.TempDir()
	writeFile0600(t, filepath.Join(src, "f.txt"), "file\n")
	run("backup", src)
	sns := c.snapshots()
	for _, sn := range sns {
		run("cat", "snapshot", sn.ID)
		run("cat", "tree", sn.Tree)
	}
	run("snapshots")
	run("snapshots", "--json")
	run("ls", "--long", "latest")
	run("ls", "--json", sns[0].ID[:8])
	run("dump", sns[0].ID[:8], "/db.sql")
	run("restore", "latest", "--target", t.TempDir())
	run("check", "--read-data")
	run("check", "--json")
	run("stats", "--json")
	run("cat", "config")
	run("cat", "index", c.files("index")[0])
	for id := range c.packs() {
		run("cat", "pack-header", id)
	}
	run("key", "add", "--new-password-file", newPw)
	run("key", "list", "--json")
	for _, k := range c.files("keys") {
		run("cat", "key", k)
	}
	run("unlock")
	run("version")
	if !strings.Contains(all.String(), "no errors were found") {
		t.Fatal("the commands did not run as expected")
	}
	for _, secret := range []string{pw, pw + "-second"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a command printed the password %q", secret)
		}
	}

	// The repository's files hold neither password, in any form a reader
	// could spot.
	files := 0
	err := filepath.Walk(c.repo, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(pw)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(pw))) {
			t.Errorf("%s contains the password", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 6 {
		t.Errorf("looked at only %d repository files", files)
	}
}
