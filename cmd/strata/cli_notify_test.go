package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"strata/service/health"
)

// writeConfig writes strata.yaml for the repository of c with body after
// the repository section, and returns its path.
func (c *tcli) writeConfig(body string) string {
	c.t.Helper()
	path := filepath.Join(c.t.TempDir(), "strata.yaml")
	text := fmt.Sprintf("version: 1\nstate_dir: %s\nrepository:\n  url: %s\n  password_file: %s\n%s", c.t.TempDir(), c.repo, c.pwFile, body)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// hookReceiver is a real HTTP server on loopback recording each
// request's path and body.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    map[string][]byte // the last body of each path
	hits   []string
	bodies [][]byte // the webhook's (/hook) bodies, in order
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{got: map[string][]byte{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got[r.URL.Path] = b
		h.hits = append(h.hits, r.URL.Path)
		if r.URL.Path == "/hook" {
			h.bodies = append(h.bodies, b)
		}
		h.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/services/") {
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// body is the last body sent to path.
func (h *hookReceiver) body(path string) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[path]
}

func TestNotifyTest(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	rcv := newHookReceiver(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	pingFile := filepath.Join(t.TempDir(), "ping.url")
	if err := os.WriteFile(pingFile, []byte(rcv.URL+"/ping/0a1b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.vars["SLACK_URL"] = rcv.URL + "/services/T0/B0/SLACKTOKEN"
	cfg := c.writeConfig(fmt.Sprintf(`sources: [{name: dump, type: stdin, stdin_name: db.sql}]
jobs: [{name: db-daily, source: dump, tier: daily, schedule: "@daily"}]
notifications:
  channels:
    - {name: hook, type: webhook, url: "%s/hook"}
    - {name: ops, type: slack, url_env: SLACK_URL}
    - {name: ping, type: healthchecks, url_file: %s, jobs: [db-daily]}
    - {name: broken, type: discord, url: "http://%s/api/webhooks/1/DISCORDTOKEN"}
`, rcv.URL, pingFile, closed))

	out, errOut := c.code(exitError, "notify", "test", "--config", cfg)
	for _, want := range []string{"hook (webhook): sent\n", "ops (slack): sent\n", "ping (healthchecks): sent\n", "broken (discord): failed: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "TOKEN") || !strings.Contains(errOut, "1 channel of 4 failed") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	var ev map[string]any
	if err := json.Unmarshal(rcv.body("/hook"), &ev); err != nil || ev["event"] != "test" || ev["severity"] != "info" {
		t.Fatalf("webhook got %s (%v)", rcv.body("/hook"), err)
	}
	var slack struct{ Text string }
	if err := json.Unmarshal(rcv.body("/services/T0/B0/SLACKTOKEN"), &slack); err != nil || !strings.Contains(slack.Text, "test notification") {
		t.Fatalf("slack got %s", rcv.body("/services/T0/B0/SLACKTOKEN"))
	}
	if rcv.body("/ping/0a1b") == nil {
		t.Fatal("no success ping")
	}

	// One channel, as JSON.
	out = c.ok("notify", "test", "--config", cfg, "--channel", "ops", "--json")
	var res []struct {
		Channel, Type, Error string
		OK                   bool
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 || res[0].Channel != "ops" || !res[0].OK {
		t.Fatalf("%s (%v)", out, err)
	}
	if _, errOut := c.code(exitError, "notify", "test", "--config", cfg, "--channel", "nope"); !strings.Contains(errOut, `no notification channel is named "nope"`) {
		t.Fatalf("%s", errOut)
	}
	if _, errOut := c.code(exitError, "notify", "test"); !strings.Contains(errOut, "no config") {
		t.Fatalf("%s", errOut)
	}
}

func TestHealthConfigCheckDrill(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	cfg := c.writeConfig(fmt.Sprintf(`sources: [{name: app, type: sqlite, dsn: "sqlite://%s"}]
jobs:
  - {name: app-hourly, source: app, tier: hourly, schedule: "@hourly"}
  - {name: app-daily, source: app, tier: daily, schedule: "30 1 * * *"}
check: {schedule: "@daily"}
drill: {schedule: "@weekly"}
health: {quota_bytes: 1T}
`, path))
	rep := c.healthJSON(2, "--config", cfg)
	if !rep.Configured || len(rep.Jobs) != 2 || findingOf(rep, "age app-daily") == nil || findingOf(rep, "check") == nil || rep.Storage.Method != "quota" {
		t.Fatalf("%+v", rep)
	}
	c.ok("backup", "--config", cfg, "--job", "app-hourly")
	c.ok("backup", "--config", cfg, "--job", "app-daily")
	rep = c.healthJSON(1, "--config", cfg)
	if f := findingOf(rep, "check"); f == nil || f.Status != health.Warning || !strings.Contains(f.Message, "no check is recorded") {
		t.Fatalf("%+v", rep.Findings)
	}
	c.ok("check")
	c.ok("verify", "drill", "latest")
	rep = c.healthJSON(0, "--config", cfg)
	if ch := rep.Check; ch.Time == nil || !ch.OK || ch.Errors != 0 || ch.MaxAgeSeconds != 26*3600 {
		t.Fatalf("check %+v", ch)
	}
	if len(rep.Drills) != 1 || !rep.Drills[0].OK || rep.Drills[0].Tables != 2 || len(rep.Sources) != 1 || rep.Sources[0].RTOSeconds == nil {
		t.Fatalf("drills %+v sources %+v", rep.Drills, rep.Sources)
	}
	if tr := rep.Drills[0].TableResults; len(tr) != 2 || tr[0].Rows == 0 || !tr[0].OK || tr[0].LoadSeconds <= 0 {
		t.Fatalf("drill tables %+v", tr)
	}
	if rep.Drills[0].Source != rep.Jobs[0].Source {
		t.Fatalf("drill of %q, series of %q", rep.Drills[0].Source, rep.Jobs[0].Source)
	}
	out := c.ok("health", "--config", cfg)
	if !strings.Contains(out, "last check:") || !strings.Contains(out, "restored 2 tables in") || !strings.Contains(out, "app-daily") {
		t.Fatalf("%s", out)
	}
	// A drill that finds an orphan row is critical until a drill passes.
	if _, err := db.Exec(`INSERT INTO orders VALUES (4, 42, 1)`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--config", cfg, "--job", "app-hourly")
	c.code(exitCheckFailed, "verify", "drill", "latest")
	rep = c.healthJSON(2, "--config", cfg)
	if f := findingOf(rep, "drill "+rep.Drills[0].Source); f == nil || f.Status != health.Critical || rep.Sources[0].RTOSeconds != nil {
		t.Fatalf("%+v", rep.Findings)
	}
	// --job: that job's series alone.
	rep = c.healthJSON(2, "--config", cfg, "--job", "app-daily")
	if len(rep.Jobs) != 1 || rep.Jobs[0].Job != "app-daily" {
		t.Fatalf("%+v", rep.Jobs)
	}
}
