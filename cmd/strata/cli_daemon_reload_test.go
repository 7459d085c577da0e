package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/service/health"
)

// TestDaemonReloadHealth: after SIGHUP the daemon's health and /metrics
// follow strata.yaml as read again: the removed job broken (critical)
// leaves health.json without a recovered event, the health section's new
// quota is judged, and the old name of the renamed job (app, now app2)
// leaves /metrics. (Before, health judged by the file as the daemon
// started until a restart: broken stayed critical, the quota did not
// count, and app's series stayed in /metrics.)
func TestDaemonReloadHealth(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	notif := `notifications:
  channels:
    - {name: ops, type: webhook, url: "` + rcv.URL + `/hook"}
`
	e := newAppDaemonEnv(t, `jobs:
  - {name: app, source: app, tier: hourly, schedule: "@every 1s"}
  - {name: broken, source: app, tier: daily, max_age: 1s}
`+notif)
	token := e.withDashboardToken()
	p := e.startDaemon("--listen", "127.0.0.1:0")
	p.waitFor("an unhealthy finding of the job broken", func() bool {
		return strings.Contains(strings.Join(rcv.events(t)["unhealthy"], " "), "age broken|broken")
	})
	base := "http://" + regexp.MustCompile(`dashboard on http://([0-9.:]+)/`).FindStringSubmatch(p.log.String())[1]
	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
		}
		return fams
	}
	// The unhealthy event came after a run of app had ended, and so
	// after its metrics.
	if _, ok := metricValue(scrape(), "strata_backup_last_success_timestamp_seconds", "job", "app"); !ok {
		t.Fatal("no strata_backup_last_success_timestamp_seconds of the job app before the reload")
	}

	e.writeAppConfig(`jobs:
  - {name: app2, source: app, tier: hourly, schedule: "@every 1s"}
health:
  quota_bytes: 1000
` + notif)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reload", func() bool { return strings.Contains(p.log.String(), "config reloaded") })
	var tracked struct {
		Findings map[string]struct{ Status health.Status }
	}
	p.waitFor("health.json without the removed job and with the storage against the new quota", func() bool {
		b, err := os.ReadFile(filepath.Join(e.stateDir, health.StateFile))
		if err != nil || json.Unmarshal(b, &tracked) != nil {
			return false
		}
		_, broken := tracked.Findings["age broken"]
		return !broken && tracked.Findings["storage"].Status == health.Critical
	})
	for name, f := range scrape() {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "job" && l.GetValue() == "app" {
					t.Fatalf("/metrics after the reload still has %s of the old job name app: %v", name, m)
				}
			}
		}
	}
	p.stop()
	for _, ev := range rcv.events(t)["recovered"] {
		if strings.Contains(ev, "broken") {
			t.Fatalf("recovered sent for the removed job: %v", rcv.events(t)["recovered"])
		}
	}
	e.c.ok("check")
}

// TestDaemonReloadChannelsAndHookSecrets: after SIGHUP the daemon sends
// its notifications to the channels of strata.yaml as read again, and its
// hooks no longer see the variable a newly added source's password comes
// from. (Before, both stayed as the daemon started: the failure went to
// the old webhook, and the hooks saw the new password.)
func TestDaemonReloadChannelsAndHookSecrets(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	e := newAppDaemonEnv(t, "")
	e.env = append(e.env, "RELOAD_SECRET_PW=s3cret-value")
	seen := filepath.Join(e.dir, "seen")
	app := `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 1s"
    hooks:
      after:
        - command: 'printf "%s\n" "${RELOAD_SECRET_PW:-unset}" >> ` + seen + `'
`
	e.writeAppConfig(app + `notifications:
  channels:
    - {name: ops, type: webhook, url: "` + rcv.URL + `/old"}
`)
	p := e.startDaemon()
	lines := func() []string {
		b, _ := os.ReadFile(seen)
		return strings.Fields(string(b))
	}
	p.waitFor("a hook of app", func() bool { return len(lines()) > 0 })

	e.writeConfig(`sources:
  - {name: app, type: sqlite, dsn: "sqlite://` + e.db + `"}
  - {name: gone, type: sqlite, dsn: "sqlite://` + filepath.Join(e.dir, "no", "such", "x.db") + `"}
  - {name: pg, type: postgres, dsn: "postgres://postgres@127.0.0.1:5432/postgres", password_env: RELOAD_SECRET_PW}
` + app + `  - {name: gone-hourly, source: gone, tier: hourly, schedule: "@every 1s"}
  - {name: pg-daily, source: pg, tier: daily}
notifications:
  channels:
    - {name: ops, type: webhook, url: "` + rcv.URL + `/new"}
`)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reload", func() bool { return strings.Contains(p.log.String(), "config reloaded") })
	// A hook that started before the reload may still add its line.
	n := len(lines())
	p.waitFor("two more hooks of app and a failure of gone-hourly sent", func() bool {
		return len(lines()) >= n+2 && rcv.count("/new")+rcv.count("/old") > 0
	})
	p.stop()
	if got := lines(); got[len(got)-1] != "unset" {
		t.Errorf("a hook after the reload saw the new source's password variable: %q", got)
	}
	if rcv.count("/old") != 0 || rcv.count("/new") == 0 {
		t.Errorf("after the reload, %d events went to the old webhook and %d to the new one", rcv.count("/old"), rcv.count("/new"))
	}
}

// TestDaemonReloadRepositoryChangeWarns: a reload whose repository
// section changed (another password_file, a lock_wait) says which keys
// changed and that they need a restart, never their values. Before, the
// log said only "config reloaded" unless the URL changed.
func TestDaemonReloadRepositoryChangeWarns(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	p := e.startDaemon()
	p.waitFor("the daemon to start", func() bool { return strings.Contains(p.log.String(), "daemon started") })
	pw2 := filepath.Join(e.dir, "pw2")
	if err := os.WriteFile(pw2, []byte("another-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.c.pwFile = pw2
	e.repoKeys = "  lock_wait: 5m\n"
	e.writeAppConfig("")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reload", func() bool { return strings.Contains(p.log.String(), "config reloaded") })
	p.stop()
	log := p.log.String()
	if !strings.Contains(log, "repository.password_file, repository.lock_wait") || !strings.Contains(log, "restart it") {
		t.Errorf("the reload does not say the repository's keys changed and need a restart:\n%s", log)
	}
	if strings.Contains(log, "another-password") {
		t.Errorf("the log holds the password:\n%s", log)
	}
}

// TestDaemonWarnsUnreadableSecrets: a channel whose url_env is not set in
// the daemon's environment is warned of when the daemon starts and when a
// reload brings one, naming the key and variable, not when its first
// alert is lost. Before, only config validate said so.
func TestDaemonWarnsUnreadableSecrets(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `notifications:
  channels:
    - {name: ops, type: webhook, url_env: STARTUP_UNSET_HOOK}
`)
	p := e.startDaemon()
	p.waitFor("the warning at start", func() bool {
		return strings.Contains(p.log.String(), "cannot be read") && strings.Contains(p.log.String(), "STARTUP_UNSET_HOOK")
	})
	e.writeAppConfig(`notifications:
  channels:
    - {name: ops, type: webhook, url_env: RELOAD_UNSET_HOOK}
`)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reload", func() bool { return strings.Contains(p.log.String(), "config reloaded") })
	p.stop()
	if log := p.log.String(); !strings.Contains(log, "RELOAD_UNSET_HOOK is not set") {
		t.Errorf("the reload does not warn of the channel's unset variable:\n%s", log)
	}
}
