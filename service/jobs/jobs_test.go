package jobs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"strata/service/config"
	"strata/service/daemon"
	"strata/service/hooks"
)

const yaml = `version: 1
timezone: Europe/Berlin
repository:
  url: /srv/backup
  password_env: REPO_PW
sources:
  - name: db
    type: postgres
    dsn: postgres://backup@db1/shop
    password_env: DB_PW
jobs:
  - name: hourly
    source: db
    tier: hourly
    schedule: "15 * * * *"
    timeout: 50m
    retry: {attempts: 2, delay: 10m}
    hooks:
      before: [{command: own-before}]
      after: [{command: own-after}]
  - name: manual
    source: db
check:
  schedule: "0 6 * * *"
drill:
  schedule: "0 7 * * sat"
  source: db
retention:
  keep_daily: 7
  schedule: "0 5 * * *"
hooks:
  before: [{command: global-before}]
  after: [{command: global-after}]
  failure:
    - http: {url_env: HOOK_URL}
notifications:
  channels:
    - name: chat
      type: slack
      url_env: SLACK_URL
`

func load(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(text), "strata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	return c
}

func TestFromConfig(t *testing.T) {
	c := load(t, yaml)
	env := map[string]string{"HOOK_URL": "https://hooks.example/x"}
	js, err := FromConfig(c, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]daemon.Job{}
	for _, j := range js {
		names = append(names, j.Name+":"+j.Kind)
		byName[j.Name] = j
	}
	if want := []string{"hourly:backup", "manual:backup", "check:check", "drill:drill", "forget:forget"}; !slices.Equal(names, want) {
		t.Fatalf("jobs %v, want %v", names, want)
	}
	h := byName["hourly"]
	if h.Repository != "/srv/backup" || h.Tier != "hourly" || h.Source != "db" || h.Timeout != 50*time.Minute || h.Retries != 2 || h.RetryDelay != 10*time.Minute {
		t.Fatalf("hourly %+v", h)
	}
	// The file's hooks around the job's own.
	cmds := func(hs []hooks.Hook) string {
		var s []string
		for _, h := range hs {
			s = append(s, h.Command+h.URL)
		}
		return strings.Join(s, ",")
	}
	if got := cmds(h.Hooks.Before); got != "global-before,own-before" {
		t.Fatalf("before %s", got)
	}
	if got := cmds(h.Hooks.After); got != "own-after,global-after" {
		t.Fatalf("after %s", got)
	}
	if got := cmds(h.Hooks.Failure); got != "https://hooks.example/x" || h.Hooks.Failure[0].Method != "POST" || h.Hooks.Failure[0].Timeout != time.Minute {
		t.Fatalf("failure %+v", h.Hooks.Failure)
	}
	// Schedules in the file's zone: 15 past each hour in Berlin.
	from := time.Date(2026, 7, 1, 10, 20, 0, 0, time.UTC)
	if next := h.Schedule.Next(from); !next.Equal(time.Date(2026, 7, 1, 11, 15, 0, 0, time.UTC)) {
		t.Fatalf("next %v", next)
	}
	if !strings.Contains(h.ScheduleText, "Europe/Berlin") {
		t.Fatalf("schedule text %q", h.ScheduleText)
	}
	if byName["manual"].Schedule != nil {
		t.Fatal("a job without a schedule got one")
	}
	if got := Secrets(c); !slices.Equal(got, []string{"REPO_PW", "DB_PW", "HOOK_URL", "SLACK_URL"}) {
		t.Fatalf("secrets %v", got)
	}
	// A hook URL's variable unset: an error naming the job.
	if _, err := FromConfig(c, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "job hourly") {
		t.Fatalf("unset hook URL: %v", err)
	}
}

func TestFromConfigNameClash(t *testing.T) {
	c := load(t, strings.Replace(yaml, "name: manual", "name: check", 1))
	if _, err := FromConfig(c, func(string) string { return "x" }); err == nil || !strings.Contains(err.Error(), `two jobs named "check"`) {
		t.Fatalf("clash: %v", err)
	}
}

// TestRetentionWithoutSchedule: a retention section without a schedule
// makes a forget job that follows every backup; with one, none.
func TestRetentionWithoutSchedule(t *testing.T) {
	c := load(t, strings.Replace(yaml, "  schedule: \"0 5 * * *\"\n", "  prune: true\n", 1))
	js, err := FromConfig(c, func(string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	var forget *daemon.Job
	for i := range js {
		if js[i].Name == "forget" {
			forget = &js[i]
		}
	}
	if forget == nil || forget.Schedule != nil || !slices.Equal(forget.After, []string{"hourly", "manual"}) {
		t.Fatalf("forget job %+v, want one after hourly and manual", forget)
	}
	req, err := ForgetRequest(c)
	if err != nil || req.Policy.Rules == nil || req.Policy.Rules.Daily != 7 || req.Prune == nil || req.Policy.Source != "config" || req.Policy.Timezone != "Europe/Berlin" {
		t.Fatalf("forget request %+v, %v", req, err)
	}
	scheduled, err := FromConfig(load(t, yaml), func(string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range scheduled {
		if j.Name == "forget" && (j.Schedule == nil || len(j.After) != 0) {
			t.Fatalf("scheduled forget %+v", j)
		}
	}
}
