package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConfigValidateListsEveryMistake: config validate lists every
// mistake of a file in one run, in the file's order, each with its file,
// line and key: unknown keys, a value of the wrong kind, a bad schedule
// and time zone, a job naming no source, a job named as a section's;
// then the warnings (an unset variable), and exits 1. Before, the unknown
// keys hid everything else, and a job named check showed only when the
// daemon started.
func TestConfigValidateListsEveryMistake(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	p := filepath.Join(t.TempDir(), "strata.yaml")
	writeNew(t, p, []byte(`version: 1
repository:
  url: local:repo
  password_env: NOT_SET_PW
sources:
  - name: db
    type: postgres
    dsn: postgres://backup@db1/shop
    pasword_env: PGPW
jobs:
  - name: daily
    source: db
    schedule: "30 25 * * *"
    timeout: soon
  - name: check
    source: customers
    retry: {attempts: many}
    schedule: "@daily"
    timezone: Mars/Base
check:
  schedule: "@daily"
retention:
  keep_daily: 7
  keep_dayly: 7
`))
	out, errOut := c.code(1, "config", "validate", p)
	want := []string{
		`:9: sources[0].pasword_env: unknown key "pasword_env": did you mean "password_env"?`,
		`:13: jobs[0].schedule: invalid value: invalid schedule "30 25 * * *": hour: "25"`,
		`:14: jobs[0].timeout: duration "soon"`,
		`:15: jobs[1].name: invalid value: "check" is the name of the check section's job`,
		`:16: jobs[1].source: invalid value: "customers" is not a source's name (sources: db)`,
		`:17: jobs[1].retry.attempts: cannot unmarshal !!str ` + "`many`" + ` into int`,
		`:19: jobs[1].timezone: invalid value: unknown time zone "Mars/Base"`,
		`:24: retention.keep_dayly: unknown key "keep_dayly": did you mean "keep_daily"?`,
	}
	lines := regexp.MustCompile(`(?m)^strata: .*$`).FindAllString(errOut, -1)
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(lines), len(want), errOut)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], "strata: "+p+w) {
			t.Errorf("error %d is not %q:\n%s", i+1, p+w, errOut)
		}
	}
	if w := "warning: " + p + ":4: repository.password_env: environment variable NOT_SET_PW is not set here"; !strings.Contains(errOut, w) {
		t.Errorf("no %q:\n%s", w, errOut)
	}
	if strings.Contains(out, "is valid") {
		t.Errorf("validate says the file is valid:\n%s", out)
	}
}
