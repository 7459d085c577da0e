package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"strata/repo/retention"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "strata.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadExample(t *testing.T) {
	c, err := Load("testdata/strata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	if len(c.Jobs) != 4 || c.Jobs[1].Name != "customers-daily" || c.Jobs[1].MaxAge != Duration(26*time.Hour) || c.Jobs[1].Retry.Attempts != 2 {
		t.Fatalf("jobs: %+v", c.Jobs)
	}
	// Defaults: the file's zone in every schedule, storage thresholds,
	// channels' severity and events.
	if c.Jobs[0].Timezone != "Europe/Berlin" || c.Check.Timezone != "Europe/Berlin" {
		t.Errorf("zones: job %q check %q", c.Jobs[0].Timezone, c.Check.Timezone)
	}
	if ch := c.Notifications.Channels[0]; ch.MinSeverity != SeverityWarning || !reflect.DeepEqual(ch.Events, DefaultEvents) {
		t.Errorf("channel defaults: %+v", ch)
	}
	if s := c.Notifications.Channels[1].SMTP; s.Port != 587 || s.TLS != "starttls" {
		t.Errorf("smtp defaults: %+v", s)
	}
	j, err := c.Job("customers-daily")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.JobSchedule(j)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
	if got := s.Next(from).Format(time.RFC3339); got != "2026-03-29T01:30:00+01:00" {
		t.Errorf("next daily run %s", got)
	}
	if s.Interval() != 24*time.Hour {
		t.Errorf("interval %v", s.Interval())
	}
	p, err := c.Retention.Policy()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := retention.ParseTiers("hourly=24,daily=30,weekly=12,monthly=12")
	if !reflect.DeepEqual(p.Tiers, want) || p.Safety == nil || p.Safety.String() != "7d" {
		t.Errorf("policy %+v, want tiers %v and safety 7d", p, want)
	}
	if _, err := c.Job("nightly"); !errors.Is(err, ErrNoJob) || !strings.Contains(err.Error(), "customers-hourly") {
		t.Errorf("unknown job: %v", err)
	}
}

// TestLoadErrors: each broken file fails with the file, line and key
// path of the problem, and what to do.
func TestLoadErrors(t *testing.T) {
	base := "version: 1\nrepository:\n  url: /srv/backup\n  password_env: PW\n"
	src := "sources:\n  - name: db\n    type: postgres\n    dsn: postgres://backup@db1/shop\n"
	for _, tc := range []struct {
		name, text string
		is         error
		want       []string
	}{
		{"empty", "", ErrVersion, []string{"strata.yaml: ", "the file is empty"}},
		{"no version", "repository:\n  url: /srv\n", ErrVersion, []string{"version: unsupported config version: missing"}},
		{"version 2", "version: 2\nrepository:\n  url: /srv\n", ErrVersion, []string{"strata.yaml:1: version:", "reads version 1"}},
		{"typo at top", base + "job:\n  - name: x\n", ErrUnknownKey, []string{"strata.yaml:5: job: unknown key \"job\": did you mean \"jobs\"?"}},
		{"typo nested", base + src + "    pasword_file: /x\n", ErrUnknownKey, []string{"strata.yaml:9: sources[0].pasword_file", "did you mean \"password_file\""}},
		{"unknown far key", base + "frobnicate: 1\n", ErrUnknownKey, []string{"known here:", "repository"}},
		{"two unknown keys", base + "a_key: 1\nb_key: 2\n", ErrUnknownKey, []string{"strata.yaml:5: a_key", "strata.yaml:6: b_key"}},
		{"no url", "version: 1\nrepository:\n  password_env: PW\n", ErrInvalid, []string{"strata.yaml:2: repository.url: invalid value: missing"}},
		{"bad scheme", "version: 1\nrepository:\n  url: ftp://x/y\n", ErrInvalid, []string{"unknown scheme \"ftp\""}},
		{"two passwords", "version: 1\nrepository:\n  url: /x\n  password_env: A\n  password_file: /f\n", ErrInvalid, []string{"repository: invalid value: more than one"}},
		{"dsn password", base + "sources:\n  - name: db\n    type: postgres\n    dsn: postgres://backup:hunter2@db1/shop\n", ErrInvalid, []string{"strata.yaml:8: sources[0].dsn", "holds a password"}},
		{"dsn wrong engine", base + "sources:\n  - name: db\n    type: mysql\n    dsn: postgres://backup@db1/shop\n", ErrInvalid, []string{"a mysql DSN starts with mysql:"}},
		{"bad source type", base + "sources:\n  - name: db\n    type: oracle\n", ErrInvalid, []string{"sources[0].type", "\"oracle\""}},
		{"paths on db", base + src + "    paths: [/etc]\n", ErrInvalid, []string{"sources[0].paths: invalid value: is for path sources, and this one is postgres"}},
		{"dup source", base + src + "  - name: db\n    type: stdin\n", ErrInvalid, []string{"strata.yaml:9: sources[1].name", "named twice"}},
		{"job unknown source", base + src + "jobs:\n  - name: j\n    source: nope\n", ErrInvalid, []string{"strata.yaml:11: jobs[0].source", "\"nope\" is not a source's name (sources: db)"}},
		{"bad schedule", base + src + "jobs:\n  - name: j\n    source: db\n    schedule: \"0 25 * * *\"\n", ErrInvalid, []string{"strata.yaml:12: jobs[0].schedule", "hour"}},
		{"bad zone", base + src + "jobs:\n  - name: j\n    source: db\n    schedule: \"@daily\"\n    timezone: Mars/Base\n", ErrInvalid, []string{"strata.yaml:13: jobs[0].timezone", "unknown time zone"}},
		{"zones disagree", base + src + "jobs:\n  - name: j\n    source: db\n    schedule: \"CRON_TZ=Asia/Tokyo @daily\"\n    timezone: Europe/Berlin\n", ErrInvalid, []string{"jobs[0].schedule", "disagrees"}},
		{"bad duration", base + src + "jobs:\n  - name: j\n    source: db\n    timeout: soon\n", nil, []string{"strata.yaml:12: jobs[0].timeout: duration \"soon\""}},
		{"bad tier", base + src + "jobs:\n  - name: j\n    source: db\n    tier: Hourly Plus\n", ErrInvalid, []string{"jobs[0].tier"}},
		{"bad retention", base + "retention:\n  keep_within: 3 fortnights\n", ErrInvalid, []string{"retention: invalid value: keep_within"}},
		{"empty retention", base + "retention:\n  prune: true\n", ErrInvalid, []string{"no keep_* rule"}},
		{"bad subset", base + "check:\n  schedule: \"@daily\"\n  read_data_subset: 7/5\n", ErrInvalid, []string{"check.read_data_subset", "7/5"}},
		{"check without schedule", base + "check:\n  read_data: true\n", ErrInvalid, []string{"strata.yaml:5: check.schedule: invalid value: missing"}},
		{"drill of path", base + "sources:\n  - name: etc\n    type: path\n    paths: [/etc]\ndrill:\n  schedule: \"@weekly\"\n  source: etc\n", ErrInvalid, []string{"drill.source", "a drill restores a database source"}},
		{"hook both", base + "hooks:\n  before:\n    - command: true\n      http: {url: http://x/}\n", ErrInvalid, []string{"strata.yaml:7: hooks.before[0]: invalid value: both command and http"}},
		{"hook url", base + "hooks:\n  after:\n    - http: {url: \"ftp://x/\"}\n", ErrInvalid, []string{"hooks.after[0].http.url", "http://"}},
		{"channel no url", base + "notifications:\n  channels:\n    - name: s\n      type: slack\n", ErrInvalid, []string{"notifications.channels[0]: invalid value: want exactly one of url"}},
		{"channel event", base + "notifications:\n  channels:\n    - name: s\n      type: webhook\n      url: https://x/hook\n      events: [backup_exploded]\n", ErrInvalid, []string{"notifications.channels[0].events[0]", "backup_failed"}},
		{"smtp missing", base + "notifications:\n  channels:\n    - name: m\n      type: smtp\n", ErrInvalid, []string{"channels[0].smtp: invalid value: missing"}},
		{"healthchecks no job", base + "notifications:\n  channels:\n    - name: h\n      type: healthchecks\n      url: https://hc.example/abc\n", ErrInvalid, []string{"exactly one"}},
		{"thresholds", base + "health:\n  storage_warn_percent: 95\n  storage_critical_percent: 90\n", ErrInvalid, []string{"strata.yaml:6: health.storage_warn_percent", "not below"}},
		{"listen", base + "dashboard:\n  listen: localhost\n", ErrInvalid, []string{"dashboard.listen", "HOST:PORT"}},
		{"two documents", base + "---\nversion: 1\n", nil, []string{"more than one YAML document"}},
		{"not a mapping", "- a\n- b\n", ErrInvalid, []string{"want a mapping"}},
		{"wrong kind", "version: 1\nrepository: [a]\n", nil, []string{"strata.yaml:2: repository: cannot unmarshal !!seq"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := strings.ReplaceAll(err.Error(), path, "strata.yaml")
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\nlacks %q", msg, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error is not %v: %v", tc.is, err)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error shows the password: %s", msg)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	c, err := Load(writeConfig(t, "version: 1\nrepository:\n  url: /srv\n  password: hunter2\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], ":4: repository.password: the password is written in the file") || strings.Contains(w[0], "hunter2") {
		t.Errorf("warnings %q", w)
	}
	// A secret file others can read.
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Load(writeConfig(t, "version: 1\nrepository:\n  url: /srv\n  password_file: "+pw+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], ":4: repository.password_file: "+pw+" is readable by others (mode 0644): chmod 600 "+pw) {
		t.Errorf("warnings %q", w)
	}
	if err := os.Chmod(pw, 0o600); err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings for a 0600 file: %q", w)
	}
	if m := c.CheckSecrets(func(string) string { return "" }); len(m) != 0 {
		t.Errorf("CheckSecrets of a readable file: %q", m)
	}
	if err := os.Remove(pw); err != nil {
		t.Fatal(err)
	}
	if m := c.CheckSecrets(func(string) string { return "" }); len(m) != 1 || !strings.Contains(m[0], ":4: repository.password_file: cannot be read here: open "+pw+": no such file or directory") {
		t.Errorf("CheckSecrets of a missing file: %q", m)
	}
	c, err = Load(writeConfig(t, "version: 1\nrepository:\n  url: /srv\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "no password_file") {
		t.Errorf("warnings %q", w)
	}
}

func TestMasked(t *testing.T) {
	text := `version: 1
repository:
  url: s3:minio.local/bucket
  password: hunter2
sources:
  - name: db
    type: sqlite
    dsn: sqlite:///var/app.db
hooks:
  success:
    - http:
        url: https://hooks.example/services/T000/B000/XXXXSECRET?token=abc
        headers: {Authorization: Bearer SECRETTOKEN, Content-Type: application/json}
drill:
  schedule: "@weekly"
  target: postgres://postgres:scratchpw@127.0.0.1/scratch
notifications:
  channels:
    - name: s
      type: slack
      url: https://hooks.slack.com/services/T0/B0/SLACKSECRET
    - name: h
      type: healthchecks
      url: https://hc-ping.com/0f8e-uuid-secret
      jobs: []
`
	c, err := Parse([]byte(text), "strata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(c.Masked())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "XXXXSECRET", "token=abc", "SECRETTOKEN", "scratchpw", "SLACKSECRET", "uuid-secret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("masked config shows %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"https://hooks.slack.com/***", "application/json", "postgres://postgres:***@127.0.0.1/scratch", "sqlite:///var/app.db"} {
		if !strings.Contains(string(out), kept) {
			t.Errorf("masked config lacks %q:\n%s", kept, out)
		}
	}
	// The original is untouched.
	if c.Repository.Password != "hunter2" || !strings.Contains(c.Hooks.Success[0].HTTP.URL, "XXXXSECRET") {
		t.Error("Masked changed the config it copied")
	}
}

func TestDurationSize(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "36h": 36 * time.Hour, "2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour} {
		d, err := ParseDuration(in)
		if err != nil || time.Duration(d) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, d, err, want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("%q: String %q reads back as %v, %v", in, d.String(), back, err)
		}
	}
	for _, bad := range []string{"", "soon", "-1h", "2x", "d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	for in, want := range map[string]Size{"1024": 1024, "500GiB": 500 << 30, "2TB": 2e12, "1.5G": 3 << 29, "10 MiB": 10 << 20} {
		s, err := ParseSize(in)
		if err != nil || s != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, s, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-5G", "1e30TB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
