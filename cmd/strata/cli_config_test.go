package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configCLI is a CLI whose repository and password come only from a
// strata.yaml (no STRATA_REPOSITORY or STRATA_PASSWORD_FILE), with a
// folder of files, a command and standard input as sources.
func configCLI(t *testing.T) (c *tcli, cfg, data string) {
	t.Helper()
	c = newCLI(t)
	delete(c.vars, "STRATA_REPOSITORY")
	delete(c.vars, "STRATA_PASSWORD_FILE")
	c.vars["REPO_PW"] = "secret-pw"
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	writeNew(t, filepath.Join(data, "a.txt"), []byte("alpha\n"))
	writeNew(t, filepath.Join(data, "b.log"), []byte("noise\n"))
	cfg = filepath.Join(dir, "strata.yaml")
	writeNew(t, cfg, []byte(`version: 1
repository:
  url: `+c.repo+`
  password_env: REPO_PW
sources:
  - name: files
    type: path
    paths: [data]          # relative to this file's folder
    exclude: ["*.log"]
  - name: report
    type: command
    command: printf 'report body'
  - name: broken
    type: command
    command: printf 'half a report'; exit 3
  - name: pipe
    type: stdin
    stdin_name: pipe.bin
jobs:
  - name: files-daily
    source: files
    tier: daily
    schedule: "@daily"
    tags: [nightly, app]
    host: app1
  - name: report-hourly
    source: report
    tier: hourly
    schedule: "@hourly"
  - name: broken
    source: broken
  - name: pipe
    source: pipe
    tier: weekly
`))
	return c, cfg, data
}

// TestConfigJobBackup: with --config and --job, backup takes the
// repository, its password, the source, tier, tags and host from the
// config; flags on the command line win; snapshots --job lists the job's.
func TestConfigJobBackup(t *testing.T) {
	t.Parallel()
	c, cfg, data := configCLI(t)
	c.ok("--config", cfg, "init")
	c.ok("backup", "--config", cfg, "--job", "files-daily")
	c.vars["STRATA_CONFIG"] = cfg // the variable instead of the flag
	c.ok("backup", "--job", "report-hourly")
	c.ok("backup", "--job", "files-daily", "--tier", "monthly", "--host", "other")
	c.stdin = []byte("piped")
	c.ok("backup", "--job", "pipe")

	all := c.snapshots()
	if len(all) != 4 {
		t.Fatalf("%d snapshots, want 4: %+v", len(all), all)
	}
	first := all[0]
	if first.Tier != "daily" || first.Host != "app1" || strings.Join(first.Tags, ",") != "nightly,app" || first.Source != "files:"+data {
		t.Errorf("files-daily snapshot: %+v", first)
	}
	if all[2].Tier != "monthly" || all[2].Host != "other" {
		t.Errorf("flags did not win over the job: %+v", all[2])
	}
	if all[1].Tier != "hourly" || all[1].Source != "stdin:report" || all[3].Source != "stdin:pipe.bin" || all[3].Tier != "weekly" {
		t.Errorf("stream snapshots: %+v / %+v", all[1], all[3])
	}
	if got := c.ok("dump", "latest", "report", "--job", "report-hourly"); got != "report body" {
		t.Errorf("dump of the command's output: %q", got)
	}
	if got := c.ok("dump", "latest", "pipe.bin", "--job", "pipe"); got != "piped" {
		t.Errorf("dump of standard input: %q", got)
	}
	// The excluded file was left out.
	if ls := c.ok("ls", first.ID); strings.Contains(ls, "b.log") || !strings.Contains(ls, "a.txt") {
		t.Errorf("ls of the files job:\n%s", ls)
	}
	// snapshots --job: that job's snapshots only (its tier, host and source).
	if sns := c.snapshots("--job", "files-daily"); len(sns) != 1 || sns[0].ID != first.ID {
		t.Errorf("snapshots --job files-daily: %+v", sns)
	}
	// A command that fails saves nothing.
	_, errOut := c.code(1, "backup", "--job", "broken")
	if !strings.Contains(errOut, "source broken: the command failed (exit status 3)") {
		t.Errorf("failed command: %s", errOut)
	}
	if n := len(c.snapshots()); n != 4 {
		t.Errorf("%d snapshots after a failed command, want 4", n)
	}
	c.check()
}

func TestConfigJobErrors(t *testing.T) {
	t.Parallel()
	c, cfg, _ := configCLI(t)
	c.ok("--config", cfg, "init")
	if _, errOut := c.code(1, "snapshots", "--job", "files-daily"); !strings.Contains(errOut, "--job needs a config: give --config strata.yaml or set STRATA_CONFIG") {
		t.Errorf("--job without config: %s", errOut)
	}
	if _, errOut := c.code(1, "snapshots", "--config", cfg, "--job", "nightly"); !strings.Contains(errOut, `no such job "nightly" in `+cfg+" (jobs: files-daily, report-hourly, broken, pipe)") {
		t.Errorf("unknown job: %s", errOut)
	}
	// --repo on the command line beats the config's repository.
	other := filepath.Join(t.TempDir(), "other")
	if _, errOut := c.code(10, "snapshots", "--config", cfg, "--repo", other); !strings.Contains(errOut, other) {
		t.Errorf("--repo did not win over the config: %s", errOut)
	}
	// A broken config stops every command, naming the file and line.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeNew(t, bad, []byte("version: 1\nrepository:\n  url: /x\n  pasword_env: X\n"))
	if _, errOut := c.code(1, "snapshots", "--config", bad); !strings.Contains(errOut, bad+`:4: repository.pasword_env: unknown key "pasword_env": did you mean "password_env"?`) {
		t.Errorf("bad config: %s", errOut)
	}
}

func TestConfigValidateShow(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "strata.yaml")
	writeNew(t, good, []byte(`version: 1
timezone: Europe/Berlin
repository:
  url: local:repo
  password: hunter2
sources:
  - {name: db, type: postgres, dsn: "postgres://backup@db1/shop", password_env: PGPW}
jobs:
  - {name: db-daily, source: db, tier: daily, schedule: "30 1 * * *"}
  - {name: db-adhoc, source: db}
notifications:
  channels:
    - name: chat
      type: slack
      url: https://hooks.slack.com/services/T0/B0/SLACKSECRET
`))
	out, errOut := c.code(0, "config", "validate", "--config", good)
	for _, want := range []string{good + " is valid: 1 source, 2 jobs, 1 notification channel", "job db-daily: db, 30 1 * * * (every 1d), next ", "job db-adhoc: db, no schedule"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "warning: "+good+":5: repository.password: the password is written in the file") {
		t.Errorf("no warning about the inline password: %s", errOut)
	}
	// Secrets that cannot be had here are warnings of validate.
	if !strings.Contains(errOut, "warning: "+good+":7: sources[0].password_env: environment variable PGPW is not set here") {
		t.Errorf("no warning about the unset PGPW: %s", errOut)
	}
	c.vars["PGPW"] = "x"
	if _, errOut := c.code(0, "config", "validate", "--config", good); strings.Contains(errOut, "PGPW") {
		t.Errorf("a warning about PGPW although it is set: %s", errOut)
	}

	// Every *_env and *_file the config names is checked, hooks' too (a
	// hook's url_env was not).
	hooked := filepath.Join(dir, "hooked.yaml")
	writeNew(t, hooked, []byte(`version: 1
repository:
  url: local:repo
  password_env: PGPW
hooks:
  failure:
    - http: {url_env: PAGER_URL}
check:
  schedule: "@daily"
  hooks:
    success:
      - http: {url_file: `+filepath.Join(dir, "no-such-url")+`}
`))
	_, errOut = c.code(0, "config", "validate", hooked)
	for _, want := range []string{
		"warning: " + hooked + ":7: hooks.failure[0].http.url_env: environment variable PAGER_URL is not set here",
		"warning: " + hooked + ":12: check.hooks.success[0].http.url_file: cannot be read here: open " + filepath.Join(dir, "no-such-url"),
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate lacks %q:\n%s", want, errOut)
		}
	}
	out, _ = c.code(0, "config", "show", good)
	for _, secret := range []string{"hunter2", "SLACKSECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("show prints %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"password: '***'", "url: https://hooks.slack.com/***", "url: local:" + filepath.Join(dir, "repo"), "timezone: Europe/Berlin", "password_env: PGPW", "min_severity: warning", "storage_warn_percent: 80"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeNew(t, bad, []byte("version: 1\nrepository:\n  url: /x\njobs:\n  - name: j\n    source: nope\n    schedule: \"0 25 * * *\"\n"))
	_, errOut = c.code(1, "config", "validate", bad)
	for _, want := range []string{bad + `:6: jobs[0].source: invalid value: "nope" is not a source's name`, bad + ":7: jobs[0].schedule: invalid value: invalid schedule \"0 25 * * *\": hour"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate of a bad file lacks %q:\n%s", want, errOut)
		}
	}
	if _, errOut := c.code(1, "config", "validate"); !strings.Contains(errOut, "no config: give --config FILE") {
		t.Errorf("validate without a file: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "repo")); err == nil {
		t.Error("config validate created the repository")
	}
}

// writeNew creates the file at path (and its folders) holding b.
func writeNew(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
