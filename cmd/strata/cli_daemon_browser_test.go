package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"strata/internal/browsertest"
	"strata/service/state"
)

// TestDaemonDashboardBrowser: the dashboard of a running strata daemon
// --listen in headless Chromium: sign in, press a job's "Run now", and
// follow the backup it made to its log.
func TestDaemonDashboardBrowser(t *testing.T) {
	browsertest.Chromium(t)
	e := newAppDaemonEnv(t, `jobs:
  - name: app-daily
    source: app
    tier: daily
`)
	token := e.withDashboardToken()
	p := e.startDaemon("--listen", "127.0.0.1:0")
	addr := regexp.MustCompile(`dashboard on (http://[0-9.:]+)/`)
	var base string
	p.waitFor("the dashboard's address", func() bool {
		m := addr.FindStringSubmatch(p.log.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	ctx := browsertest.New(t, 90*time.Second)
	shots := browsertest.ScreenshotDir(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.SendKeys("#token", token), chromedp.Submit("#token"),
		chromedp.WaitVisible("table.jobs button")); err != nil {
		t.Fatalf("signing in: %v\n%s", err, p.log.String())
	}
	overview, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil || !strings.Contains(overview, "app-daily") {
		t.Fatalf("overview: %v\n%s", err, overview)
	}
	browsertest.Screenshot(t, ctx, shots, "daemon-overview")
	if err := chromedp.Do(ctx, chromedp.Click("table.jobs button"), chromedp.WaitVisible("p.ok")); err != nil {
		t.Fatalf("run now: %v", err)
	}
	p.waitFor("the run", func() bool { return len(e.ended("app-daily", state.Succeeded)) == 1 })
	run := e.ended("app-daily", state.Succeeded)[0]
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs/"+run.ID), chromedp.WaitVisible("dl.facts")); err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil || !strings.Contains(page, "succeeded") || !strings.Contains(page, run.Snapshot) || !strings.Contains(page, "(now)") {
		t.Errorf("the run's page: %v\n%s", err, page)
	}
	browsertest.Screenshot(t, ctx, shots, "daemon-run")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	overview, _ = chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(overview, "Tables of sqlite://") || !strings.Contains(overview, "succeeded") {
		t.Errorf("overview after the run:\n%s", overview)
	}
	browsertest.Screenshot(t, ctx, shots, "daemon-overview-after-run")
}
