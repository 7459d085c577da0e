package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/backend/local"
	"strata/repo/backend/registry"
	"strata/repo/crypto"
)

// openAPI opens c's repository in-process through the repo API and loads
// its index, as another strata process would (without a lock; a test that
// takes one on the handle gets the index reloaded by Lock).
func (c *tcli) openAPI(opts repo.Options) *repo.Repository {
	c.t.Helper()
	be := c.storage()
	pw := strings.TrimRight(string(readFile(c.t, c.pwFile)), "\n")
	if opts.KDF == (crypto.KDFParams{}) {
		opts.KDF = crypto.CheapKDFParams()
	}
	r, err := repo.Open(context.Background(), be, pw, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := r.LoadIndex(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	return r
}

// storage opens the storage of c's repository: a folder, or a bucket with
// the credentials of c's environment.
func (c *tcli) storage() backend.Storage {
	c.t.Helper()
	if !strings.HasPrefix(c.repo, "s3:") {
		be, err := local.Open(c.repo)
		if err != nil {
			c.t.Fatal(err)
		}
		return be
	}
	be, err := registry.Open(context.Background(), c.repo, backend.Options{Getenv: func(k string) string { return c.vars[k] }})
	if err != nil {
		c.t.Fatal(err)
	}
	return be
}

func TestExitCodeNoRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(c *tcli) []string // returns extra global flags
		wantErr string
	}{
		{"no --repo and no STRATA_REPOSITORY", func(c *tcli) []string {
			delete(c.vars, "STRATA_REPOSITORY")
			return nil
		}, "give --repo or set STRATA_REPOSITORY"},
		{"--repo names a missing folder", func(c *tcli) []string {
			return []string{"--repo", filepath.Join(t.TempDir(), "missing")}
		}, "no repository found"},
		{"STRATA_REPOSITORY names a missing folder", func(c *tcli) []string {
			c.vars["STRATA_REPOSITORY"] = filepath.Join(t.TempDir(), "missing")
			return nil
		}, "no repository found"},
		{"--repo names a folder without config", func(c *tcli) []string {
			return []string{"--repo", t.TempDir()}
		}, "no repository found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"snapshots"}, {"backup", "--stdin"}, {"check"}, {"key", "list"}, {"unlock"}} {
				c := newCLI(t)
				args := append(tt.setup(c), cmd...)
				out, errOut := c.code(exitNoRepository, args...)
				if !strings.Contains(errOut, tt.wantErr) {
					t.Errorf("strata %s: stderr %q does not say %q", strings.Join(args, " "), errOut, tt.wantErr)
				}
				if out != "" {
					t.Errorf("strata %s: stdout %q, want nothing", strings.Join(args, " "), out)
				}
				if entries, _ := os.ReadDir(c.repo); len(entries) > 0 {
					t.Errorf("strata %s created %s", strings.Join(args, " "), c.repo)
				}
			}
		})
	}
}

func TestExitCodeWrongPassword(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	wrong := filepath.Join(t.TempDir(), "wrong")
	writeFile0600(t, wrong, "not-the-password\n")
	tests := []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"STRATA_PASSWORD_FILE", map[string]string{"STRATA_PASSWORD_FILE": wrong}, nil},
		{"--password-file", nil, []string{"--password-file", wrong}},
		{"--password-file after the command", nil, []string{"@", "--password-file", wrong}},
		{"STRATA_PASSWORD", map[string]string{"STRATA_PASSWORD_FILE": "", "STRATA_PASSWORD": "nope"}, nil},
		{"STRATA_PASSWORD_COMMAND", map[string]string{"STRATA_PASSWORD_FILE": "", "STRATA_PASSWORD_COMMAND": "echo nope"}, nil},
	}
	for _, tt := range tests {
		for _, cmd := range [][]string{{"snapshots"}, {"backup", "--stdin"}, {"check"}, {"key", "list"}, {"unlock"}, {"cat", "config"}} {
			t.Run(tt.name+"/"+cmd[0], func(t *testing.T) {
				d := *c
				d.t = t
				d.vars = map[string]string{}
				for k, v := range c.vars {
					d.vars[k] = v
				}
				for k, v := range tt.vars {
					d.vars[k] = v
				}
				var args []string
				if i := slices.Index(tt.args, "@"); i >= 0 {
					args = append(append(append(args, tt.args[:i]...), cmd...), tt.args[i+1:]...)
				} else {
					args = append(append(args, tt.args...), cmd...)
				}
				out, errOut := d.code(exitWrongPass, args...)
				if !strings.HasPrefix(errOut, wrongPasswordMessage) || strings.Count(errOut, "\n") != 1 {
					t.Errorf("stderr %q, want exactly the wrong-password message", errOut)
				}
				if out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
			})
		}
	}
	if locks := c.files("locks"); len(locks) > 0 {
		t.Errorf("failed commands left locks: %v", locks)
	}
}

func writeFile0600(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestExitCodeLocked(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("first\n"), "a.txt")
	r := c.openAPI(repo.Options{})
	ctx := context.Background()
	lock, err := r.Lock(ctx, true, "test")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	holder := []string{"exclusive lock", fmt.Sprintf("PID %d", os.Getpid()), host, "(test)", "strata unlock"}
	tests := [][]string{
		{"backup", "--stdin"},
		{"snapshots"},
		{"ls", "latest"},
		{"check"},
		{"key", "add", "--new-password-file", c.pwFile},
		{"key", "passwd", "--new-password-file", c.pwFile},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			c.stdin = []byte("second\n")
			out, errOut := c.code(exitLocked, args...)
			for _, want := range holder {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr does not name the holder (%q):\n%s", want, errOut)
				}
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
	// `unlock` leaves a live lock alone.
	if out := c.ok("unlock"); !strings.Contains(out, "0 locks removed") {
		t.Errorf("unlock removed a live lock: %s", out)
	}
	if err := lock.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	c.stdin = []byte("second\n")
	c.ok("backup", "--stdin")
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots, want 2: a refused backup must not save one", n)
	}
	if locks := c.files("locks"); len(locks) > 0 {
		t.Errorf("locks left behind: %v", locks)
	}
}

func TestCheckFindsFlippedByteInPack(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	snap := c.backupStdin(data, "export.tsv")
	b := c.dataBlob(snap, "export.tsv")
	flipByte(t, b.Path, b.Offset+b.Length/2)

	// Without --read-data only the structure is checked; the pack header
	// is intact, so the damage is found only by reading the data.
	c.ok("check")

	out, errOut := c.code(exitCheckFailed, "check", "--read-data")
	noPanic(t, out, errOut)
	for _, want := range []string{"error: pack data/" + b.Pack[:2] + "/" + b.Pack + " is damaged", "snapshot " + snap[:8], "check found 1 error"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("check --read-data output lacks %q:\nstdout: %s\nstderr: %s", want, out, errOut)
		}
	}
	if strings.Contains(out, "no errors were found") {
		t.Errorf("check --read-data says no errors:\n%s", out)
	}

	out, errOut = c.code(exitCheckFailed, "check", "--read-data", "--json")
	noPanic(t, out, errOut)
	var rep checkReportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	if rep.OK || rep.Snapshots != 1 || rep.PacksRead == 0 || rep.DataBytesRead == 0 {
		t.Errorf("check --json = %+v, want ok=false with 1 snapshot and data read", rep)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("check --json has %d findings, want 1: %+v", len(rep.Findings), rep.Findings)
	}
	f := rep.Findings[0]
	detail, _ := f.Detail.(map[string]any)
	if f.Severity != "error" || f.Kind != "DamagedPack" || detail["Pack"] != b.Pack || !strings.Contains(f.Message, b.Pack) {
		t.Errorf("finding = %+v, want an error DamagedPack naming pack %s", f, b.Pack)
	}
	if sns, _ := detail["Snapshots"].([]any); !slices.Contains(sns, any(snap)) {
		t.Errorf("finding's snapshots = %v, want %s", detail["Snapshots"], snap)
	}
	if blobs, _ := detail["Blobs"].([]any); len(blobs) != 1 {
		t.Errorf("finding's blobs = %v, want the one damaged blob", detail["Blobs"])
	}
}

func TestDiskFullAdvice(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("storing stdin: writing pack 1f2e: %w", faulty.ErrDiskFull)
	if advice := errorAdvice(err); !strings.Contains(advice, "disk is full") || !strings.Contains(advice, "strata prune") {
		t.Errorf("advice for %v = %q", err, advice)
	}
	// A full disk elsewhere (a restore's target, a dump's output) is not
	// the repository's.
	if advice := errorAdvice(fmt.Errorf("restoring /srv/x: %w", syscall.ENOSPC)); advice != "" {
		t.Errorf("advice for a full restore target: %q", advice)
	}
	if advice := errorAdvice(fmt.Errorf("reading stdin: %w", os.ErrClosed)); advice != "" {
		t.Errorf("advice for an unrelated error: %q", advice)
	}
}

// wrongPasswordMessage begins the message of a password that opens no key
// file; it goes on to say how many key files were tried, and which.
const wrongPasswordMessage = "strata: wrong password or no key found: the password opens none of the 1 key file in "
