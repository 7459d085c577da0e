package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/service/health"
	"strata/service/state"
)

// events are the webhook's events so far, by kind, each "check|job".
func (h *hookReceiver) events(t *testing.T) map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string][]string{}
	for _, b := range h.bodies {
		var e map[string]any
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("webhook body %s: %v", b, err)
		}
		k, _ := e["event"].(string)
		c, _ := e["check"].(string)
		j, _ := e["job"].(string)
		out[k] = append(out[k], c+"|"+j)
	}
	return out
}

func (h *hookReceiver) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, p := range h.hits {
		if p == path {
			n++
		}
	}
	return n
}

// TestDaemonNotifies: strata daemon pings healthchecks at the start and
// end of each run, posts a failed backup to the webhook (not the
// successes), judges health after each run and posts a finding once: a
// restarted daemon remembers it.
func TestDaemonNotifies(t *testing.T) {
	t.Parallel()
	db, _ := sqliteApp(t)
	rcv := newHookReceiver(t)
	e := newDaemonEnv(t, "")
	e.writeConfig(`sources:
  - {name: app, type: sqlite, dsn: "sqlite://` + db + `"}
  - {name: gone, type: sqlite, dsn: "sqlite://` + filepath.Join(e.dir, "no", "such", "folder", "x.db") + `"}
jobs:
  - {name: app-hourly, source: app, tier: hourly, schedule: "@every 2s"}
  - {name: app-daily, source: app, tier: daily, max_age: 1s}
  - {name: gone-hourly, source: gone, tier: hourly, schedule: "@every 3s"}
notifications:
  channels:
    - {name: ops, type: webhook, url: "` + rcv.URL + `/hook"}
    - {name: hc, type: healthchecks, url: "` + rcv.URL + `/ping/hc", jobs: [app-hourly]}
`)
	p := e.startDaemon()
	p.waitFor("a failed backup, an unhealthy finding and two success pings", func() bool {
		ev := rcv.events(t)
		return len(ev["backup_failed"]) > 0 && len(ev["unhealthy"]) > 0 && rcv.count("/ping/hc") >= 2
	})
	p.stop()
	ev := rcv.events(t)
	if ev["backup_failed"][0] != "|gone-hourly" || len(ev["backup_succeeded"]) > 0 {
		t.Fatalf("events %v", ev)
	}
	// app-daily never ran: its series has no snapshot a second after the
	// daemon first saw it (max_age 1s; pending until then).
	unhealthy := strings.Join(ev["unhealthy"], " ")
	if !strings.Contains(unhealthy, "age app-daily|app-daily") || strings.Count(unhealthy, "age app-daily") != 1 {
		t.Fatalf("unhealthy %v", ev["unhealthy"])
	}
	if rcv.count("/ping/hc/start") < 2 || rcv.count("/ping/hc/fail") != 0 {
		t.Fatalf("pings: %d starts, %d fails", rcv.count("/ping/hc/start"), rcv.count("/ping/hc/fail"))
	}
	// The state folder remembers the findings.
	b, err := os.ReadFile(filepath.Join(e.stateDir, health.StateFile))
	if err != nil || !strings.Contains(string(b), `"age app-daily"`) {
		t.Fatalf("%s %v", b, err)
	}
	// Restarted: more runs, the same finding not sent again.
	pings := rcv.count("/ping/hc")
	p = e.startDaemon()
	p.waitFor("two more success pings", func() bool { return rcv.count("/ping/hc") >= pings+2 })
	p.stop()
	if n := strings.Count(strings.Join(rcv.events(t)["unhealthy"], " "), "age app-daily"); n != 1 {
		t.Fatalf("age app-daily reported %d times", n)
	}
	e.c.ok("check")
}

// TestDaemonRemovedJobNotRecovered: a job with a finding, then removed
// from strata.yaml (the daemon restarted on the same state folder), is
// no longer monitored: its finding is dropped from health.json without a
// recovered event. (Before, "age broken is OK again" was sent.)
func TestDaemonRemovedJobNotRecovered(t *testing.T) {
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
	p := e.startDaemon()
	p.waitFor("an unhealthy finding of the job broken", func() bool {
		return strings.Contains(strings.Join(rcv.events(t)["unhealthy"], " "), "age broken|broken")
	})
	p.stop()
	e.writeAppConfig(`jobs:
  - {name: app, source: app, tier: hourly, schedule: "@every 1s"}
` + notif)
	runs := len(e.ended("app", state.Succeeded))
	p = e.startDaemon()
	p.waitFor("two more backups of app", func() bool { return len(e.ended("app", state.Succeeded)) >= runs+2 })
	p.stop()
	for _, ev := range rcv.events(t)["recovered"] {
		if strings.Contains(ev, "broken") {
			t.Fatalf("recovered sent for the removed job: %v", rcv.events(t)["recovered"])
		}
	}
	if b, err := os.ReadFile(filepath.Join(e.stateDir, health.StateFile)); err != nil || strings.Contains(string(b), "broken") {
		t.Fatalf("health.json still tracks the removed job (%v):\n%s", err, b)
	}
}

// TestHealthFailingJobNotPending: a job whose runs fail from the start (its
// database is missing) is a warning in strata health, naming the failure,
// not "pending" until its first due time plus its limit (two hours and
// more for an hourly job): a database down from the start must not look
// fine. Before, health said OK and exited 0.
func TestHealthFailingJobNotPending(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	e.writeConfig(`sources:
  - {name: gone, type: sqlite, dsn: "sqlite://` + filepath.Join(e.dir, "no", "such", "x.db") + `"}
jobs:
  - {name: gone-hourly, source: gone, tier: hourly, schedule: "@every 1s"}
`)
	p := e.startDaemon()
	p.waitFor("a failed run", func() bool { return len(e.ended("gone-hourly", state.Failed)) > 0 })
	p.stop()
	out, _ := e.c.code(1, "--config", e.config, "health", "--nagios")
	if !strings.HasPrefix(out, "STRATA WARNING") || !strings.Contains(out, "gone-hourly") || !strings.Contains(out, "last run failed") {
		t.Fatalf("health --nagios of a job whose every run failed:\n%s", out)
	}
	// While its next run runs (or pauses before a retry), the last
	// result is still the failure: not pending, so no false recovered.
	st, err := state.Open(e.stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := st.StartRun(state.Run{Job: "gone-hourly", Kind: "backup", Due: start, Trigger: "schedule", Start: start}); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.c.code(1, "--config", e.config, "health", "--nagios"); !strings.Contains(out, "last run failed") {
		t.Fatalf("health --nagios while the failing job runs again:\n%s", out)
	}
}
