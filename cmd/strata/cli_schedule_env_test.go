package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestScheduleInstallNamesEnvVars: schedule install --systemd warns of
// each variable strata.yaml's *_env keys name (a unit does not have the
// installing shell's environment, so those secrets were unset under
// systemd and install said nothing), says where to put them, writes
// EnvironmentFile=- into the service units, and never a secret's value.
func TestScheduleInstallNamesEnvVars(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app-daily
    source: app
    tier: daily
    schedule: "30 1 * * *"
    hooks:
      failure:
        - http: {url_env: FAIL_HOOK_URL}
notifications:
  channels:
    - {name: ops, type: slack, url_env: SLACK_WEBHOOK_URL}
`)
	e.c.vars["SLACK_WEBHOOK_URL"] = "https://hooks.slack.example/services/T0/B0/SECRETVALUE"
	for _, daemon := range []bool{false, true} {
		units := filepath.Join(t.TempDir(), "units")
		args := []string{"--config", e.config, "schedule", "install", "--systemd", "--unit-dir", units}
		service := "strata-app-daily.service"
		if daemon {
			args, service = append(args, "--daemon"), "strata-daemon.service"
		}
		out, errOut := e.c.code(0, args...)
		for _, want := range []string{
			"notifications.channels[0].url_env names environment variable SLACK_WEBHOOK_URL",
			"jobs[0].hooks.failure[0].http.url_env names environment variable FAIL_HOOK_URL",
			"put SLACK_WEBHOOK_URL=... in /etc/strata/strata.env (mode 0600)",
		} {
			if !strings.Contains(errOut, want) {
				t.Fatalf("install (daemon %v) did not warn %q:\n%s", daemon, want, errOut)
			}
		}
		text := string(readFile(t, filepath.Join(units, service)))
		if !strings.Contains(text, "\nEnvironmentFile=-/etc/strata/strata.env\n") {
			t.Fatalf("%s lacks EnvironmentFile=-/etc/strata/strata.env:\n%s", service, text)
		}
		if strings.Contains(text+out+errOut, "SECRETVALUE") {
			t.Fatalf("a secret's value in the unit or the output:\n%s\n%s\n%s", text, out, errOut)
		}
	}
}
