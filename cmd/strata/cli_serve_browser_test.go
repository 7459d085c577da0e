package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/internal/browsertest"
	"strata/internal/syncbuf"
	"strata/service/state"
)

// startServe runs `strata serve` on a loopback port in this process until
// the test ends, and returns its base URL and its stderr.
func (c *tcli) startServe(args ...string) (string, *syncbuf.Buffer) {
	c.t.Helper()
	errOut := &syncbuf.Buffer{}
	vars := map[string]string{}
	for k, v := range c.vars {
		vars[k] = v
	}
	e := &env{stdin: bytes.NewReader(nil), stdout: &syncbuf.Buffer{}, stderr: errOut,
		getenv: func(k string) string { return vars[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	// Not through runInProcess, which has no context: serve runs until the
	// test ends. Its parsing takes inProcess as every command's does (other
	// tests' commands parse meanwhile).
	go func() {
		inProcess.Lock()
		var once sync.Once
		unlock := func() { once.Do(inProcess.Unlock) }
		defer unlock()
		e.parsed = unlock
		done <- run(ctx, append([]string{"strata", "serve", "--listen", "127.0.0.1:0"}, args...), e)
	}()
	c.t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			c.t.Errorf("strata serve exited %d\n%s", code, errOut)
		}
	})
	addr := regexp.MustCompile(`dashboard on (http://127\.0\.0\.1:\d+)/`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			return m[1], errOut
		}
		select {
		case code := <-done:
			c.t.Fatalf("strata serve exited %d\n%s", code, errOut)
		default:
		}
	}
	c.t.Fatalf("strata serve did not say where it listens\n%s", errOut)
	return "", nil
}

// dashboardRepo makes a repository with hourly and daily snapshots of a
// stream, a daily snapshot of a SQLite database and its drill, a stored
// policy and a protection, and a state folder with one run of a job.
func dashboardRepo(t *testing.T) (c *tcli, stateDir, protectedID string) {
	c = newCLI(t)
	c.ok("init")
	now := time.Now()
	data := []byte(strings.Repeat("order 1;", 4000))
	for i := 5; i >= 0; i-- {
		data = append(data, []byte(fmt.Sprintf("order %d;", 1000+i))...)
		at := now.Add(-time.Duration(i) * time.Hour).Format("2006-01-02 15:04:05")
		id := c.backupStdin(data, "orders.log", "--tier", "hourly", "--time", at)
		if i == 3 {
			protectedID = id
		}
	}
	for i := 2; i >= 1; i-- {
		at := now.Add(-time.Duration(i) * 24 * time.Hour).Format("2006-01-02 15:04:05")
		c.backupStdin(data[:len(data)/i], "orders.log", "--tier", "daily", "--time", at)
	}
	path, db := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path, "--tier", "daily", "--time", now.Add(-time.Hour).Format("2006-01-02 15:04:05"))
	if _, err := db.Exec("DELETE FROM orders WHERE id IN (SELECT id FROM orders LIMIT 2)"); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", "sqlite://"+path, "--tier", "daily")
	c.ok("verify", "drill", "latest")
	c.ok("check")
	c.ok("policy", "set", "--keep-hourly", "3", "--keep-daily", "7")
	c.ok("protect", protectedID, "--reason", "before the schema migration")

	stateDir = t.TempDir()
	st, err := state.Open(stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.StartRun(state.Run{Job: "orders-hourly", Kind: "backup", Due: now.Add(-time.Minute), Trigger: "schedule", Start: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	r.End, r.Result, r.Summary = now, state.Succeeded, "added 12 KiB"
	r.Log = "level=INFO msg=\"backing up orders.log\"\nlevel=INFO msg=\"snapshot saved\"\n"
	if err := st.FinishRun(r); err != nil {
		t.Fatal(err)
	}
	return c, stateDir, protectedID
}

// TestServeBrowser loads every page of `strata serve` in headless
// Chromium with the token, checks what it shows, and takes a screenshot
// of each (PNG files in STRATA_DASHBOARD_SCREENS, else the test's
// folder; their paths are logged). Requests without the token are
// refused.
func TestServeBrowser(t *testing.T) {
	browsertest.Chromium(t)
	c, stateDir, protectedID := dashboardRepo(t)
	const token = "browser-test-token-0123456789abcdef"
	c.vars["STRATA_DASHBOARD_TOKEN"] = token
	base, _ := c.startServe("--state-dir", stateDir)

	// Without the token: 401, and no data.
	resp, err := http.Get(base + "/snapshots")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /snapshots without the token: %d, want 401", resp.StatusCode)
	}
	// /metrics with the token parses as Prometheus's exposition.
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	if v, ok := metricValue(fams, "strata_snapshots", "tier", "hourly"); !ok || v != 6 {
		t.Errorf("/metrics: strata_snapshots{tier=hourly} = %v, %v; want 6", v, ok)
	}

	shots := browsertest.ScreenshotDir(t)
	ctx := browsertest.New(t, 90*time.Second)
	shoot := func(name string) {
		t.Helper()
		browsertest.Screenshot(t, ctx, shots, "dashboard-"+name)
	}
	text := func(what string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text("main"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return s
	}
	wantText := func(page, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s page lacks %q:\n%s", page, w, got)
			}
		}
	}

	// The browser without the token gets the sign-in form, with 401.
	nav, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/"))
	if err != nil {
		t.Fatal(err)
	}
	if nav.Status != http.StatusUnauthorized {
		t.Errorf("the overview without the token: %d, want 401", nav.Status)
	}
	wantText("sign-in", text("sign-in"), "Sign in", "token")
	shoot("login")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#token", token), chromedp.Submit("#token"), chromedp.WaitVisible("table.jobs")); err != nil {
		t.Fatalf("signing in: %v", err)
	}

	overview := text("overview")
	wantText("overview", overview, "stdin:orders.log hourly", "stdin:orders.log daily", "sqlite://", "Last check", "no errors", "restored", "orders-hourly",
		"Tables of sqlite://", "orders", "-2", "1 rows loaded in")
	shoot("overview")

	pages := []struct {
		path, name string
		want       []string
	}{
		{"/charts", "charts", []string{"hourly", "daily", "6 snapshots"}},
		{"/snapshots", "snapshots", []string{"--keep-hourly 3 --keep-daily 7", protectedID[:8], "protected", "before the schema migration", "remove", "keep"}},
		{"/drills", "drills", []string{"sqlite://", "passed", "RPO", "Tables of the last drill", "customers"}},
		{"/runs", "runs", []string{"orders-hourly", "succeeded", "added 12 KiB"}},
	}
	for _, pg := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+pg.path)); err != nil {
			t.Fatalf("%s: %v", pg.path, err)
		}
		wantText(pg.name, text(pg.name), pg.want...)
		if pg.name == "charts" {
			lines, err := chromedp.Run(ctx, chromedp.Nodes("svg polyline", chromedp.AtLeast(0)))
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != 4 {
				t.Errorf("charts page: %d lines, want 4 (stored and raw of two tiers)", len(lines))
			}
		}
		shoot(pg.name)
	}
	// A run's page, reached through its link, shows its log.
	if err := chromedp.Do(ctx, chromedp.Click("table.runs a"), chromedp.WaitVisible("pre.log")); err != nil {
		t.Fatalf("opening the run: %v", err)
	}
	wantText("run", text("run"), "backing up orders.log", "snapshot saved")
	shoot("run")
}
