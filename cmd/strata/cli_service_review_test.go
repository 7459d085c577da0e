package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestConfigValidateDrillSQLiteTarget: a drill target naming a SQLite
// database can never work (a drill makes a temporary SQLite file by
// itself, or a scratch database on a server), so config validate refuses
// it instead of every drill failing later.
func TestConfigValidateDrillSQLiteTarget(t *testing.T) {
	e := newAppDaemonEnv(t, `drill:
  schedule: "@weekly"
  source: app
  target: sqlite:///tmp/scratch.db
`)
	_, errOut := e.c.code(1, "config", "validate", "--config", e.config)
	if !strings.Contains(errOut, "drill.target: invalid value: a drill restores into a temporary SQLite file by itself: leave target out") {
		t.Fatalf("validate accepted a SQLite drill target:\n%s", errOut)
	}
}

// TestCommandSourceEnvironmentWithoutSecrets: a command source runs without
// strata's own variables and those strata.yaml reads secrets from (its
// output is saved in the snapshot), but with the rest of the environment.
func TestCommandSourceEnvironmentWithoutSecrets(t *testing.T) {
	e := newDaemonEnv(t, `sources:
  - name: envsrc
    type: command
    command: env
jobs:
  - name: envjob
    source: envsrc
    tier: daily
notifications:
  channels:
    - name: hook
      type: webhook
      url_env: R14_WEBHOOK_URL
dashboard:
  token_env: R14_DASH_TOKEN
`)
	cmd := exec.Command(buildStrata(t), "schedule", "run", "--config", e.config, "envjob")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "TMPDIR="+t.TempDir(), "R14_VISIBLE=plain-value",
		"R14_WEBHOOK_URL=http://127.0.0.1:1/webhook-secret-a", "R14_DASH_TOKEN=dashboard-secret-b-0123456789abcdef0123",
		"STRATA_DASHBOARD_TOKEN=dashboard-secret-c-0123456789abcdef0123", "STRATA_PASSWORD=repository-secret-d")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("schedule run: %v\n%s", err, out)
	}
	saved := e.c.ok("dump", "latest", "/envsrc")
	if !strings.Contains(saved, "R14_VISIBLE=plain-value") {
		t.Fatalf("the command's environment lacks the daemon's ordinary variables:\n%s", saved)
	}
	for _, secret := range []string{"webhook-secret-a", "dashboard-secret-b", "dashboard-secret-c", "repository-secret-d"} {
		if strings.Contains(saved, secret) {
			t.Errorf("the command source saw %s in its environment (saved in the snapshot)", secret)
		}
	}
}

// TestHealthKeepsDrillOfForgottenSnapshot: a drill's result outlives the
// snapshot it restored. Health found a drill's source through its
// snapshot, so once retention forgot that snapshot (an hourly one, a day
// later) the drill vanished: "no drill recorded", no RTO, and a failed
// drill became "recovered" with an older passing one showing through.
func TestHealthKeepsDrillOfForgottenSnapshot(t *testing.T) {
	db, _ := sqliteApp(t)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+db, "--tier", "hourly")
	c.ok("verify", "drill", "latest")
	c.ok("backup", "--db", "sqlite://"+db, "--tier", "hourly")
	c.ok("forget", "--keep-last", "1") // removes the drilled snapshot
	out, _ := c.code(0, "health", "--json")
	var rep struct {
		Drills []struct {
			Source string `json:"source"`
			OK     bool   `json:"ok"`
		} `json:"drills"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Drills) != 1 || rep.Drills[0].Source != "sqlite://"+db || !rep.Drills[0].OK {
		t.Fatalf("health lost the drill of the forgotten snapshot: drills %+v", rep.Drills)
	}
}

// TestConfigShowMasksCommandsAndDSNQuery: config show masks the secrets
// of a command source's and a hook's command line and of a DSN's query as
// the audit trail masks them (it printed mysqldump -pSECRET, curl -u
// user:SECRET and sslpassword=SECRET as written).
func TestConfigShowMasksCommandsAndDSNQuery(t *testing.T) {
	e := newDaemonEnv(t, `sources:
  - name: dump
    type: command
    command: 'mysqldump -u root -pcmd-secret-a shop'
  - name: pg
    type: postgres
    dsn: 'postgres://backup@db1/shop?sslpassword=dsn-secret-b'
jobs:
  - name: j
    source: dump
    hooks:
      after:
        - command: 'curl -u admin:hook-secret-c https://example.com/done'
`)
	out := e.c.ok("config", "show", "--config", e.config)
	for _, want := range []string{"mysqldump -u root", "postgres://backup@db1/shop?sslpassword=", "curl -u admin:"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"cmd-secret-a", "dsn-secret-b", "hook-secret-c"} {
		if strings.Contains(out, secret) {
			t.Errorf("config show printed %s:\n%s", secret, out)
		}
	}
}
