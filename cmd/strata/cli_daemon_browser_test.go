package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"strata/internal/browsertest"
	"strata/repo"
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
	base := p.dashboardURL()
	ctx := browsertest.New(t, 90*time.Second)
	shots := browsertest.ScreenshotDir(t)
	p.signIn(ctx, base, token, "table.jobs button")
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

// TestDaemonDashboardShowsLockWait: a job whose run waits for another
// process's lock, stepped aside (the retention job's forget --prune
// behind a long check's shared lock), shows on the dashboard's jobs
// table as "waiting for lock since" the time its record and strata
// health give (it showed "running", or its next due time, before).
func TestDaemonDashboardShowsLockWait(t *testing.T) {
	browsertest.Chromium(t)
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: hourly
retention:
  keep_last: 1
  prune: true
  schedule: "@every 1s"
`)
	token := e.withDashboardToken()
	lock, err := e.c.openAPI(repo.Options{}).Lock(context.Background(), false, "test: a long check")
	if err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon("--listen", "127.0.0.1:0")
	base := p.dashboardURL()
	var waiting state.Run
	p.waitFor("the forget's record saying it waits", func() bool {
		runs := e.runs("forget")
		if len(runs) > 0 && runs[0].Result == state.Running && !runs[0].LockWaitSince.IsZero() {
			waiting = runs[0]
			return true
		}
		return false
	})
	ctx := browsertest.New(t, 90*time.Second)
	p.signIn(ctx, base, token, "table.jobs")
	want := "waiting for lock since " + showTime(waiting.LockWaitSince)
	var jobs string
	// Between two looks at the lock the run holds its turn for a moment:
	// the page shows "running" then.
	p.waitFor("the jobs table showing the waiting forget", func() bool {
		var err error
		if err = chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("table.jobs")); err == nil {
			jobs, err = chromedp.Run(ctx, chromedp.Text("table.jobs"))
		}
		if err != nil {
			t.Fatalf("the overview: %v", err)
		}
		return strings.Contains(jobs, want)
	})
	if !regexp.MustCompile(`forget[^\n]*` + regexp.QuoteMeta(want)).MatchString(jobs) {
		t.Fatalf("the waiting run is not on the forget's line:\n%s", jobs)
	}
	browsertest.Screenshot(t, ctx, browsertest.ScreenshotDir(t), "daemon-overview-lock-wait")
	if err := lock.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the forget's success", func() bool {
		for _, f := range e.ended("forget", state.Succeeded) {
			if f.ID == waiting.ID {
				return true
			}
		}
		return false
	})
	p.stop()
	e.c.ok("check")
}

// dashboardURL is the address the daemon's dashboard listens on, as its
// log says ("http://127.0.0.1:PORT").
func (p *daemonProc) dashboardURL() string {
	p.t.Helper()
	addr := regexp.MustCompile(`dashboard on (http://[0-9.:]+)/`)
	var base string
	p.waitFor("the dashboard's address", func() bool {
		m := addr.FindStringSubmatch(p.log.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	return base
}

// signIn signs in to the dashboard at base with token and waits until
// the overview shows sel.
func (p *daemonProc) signIn(ctx context.Context, base, token, sel string) {
	p.t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.SendKeys("#token", token), chromedp.Submit("#token"),
		chromedp.WaitVisible(sel)); err != nil {
		p.t.Fatalf("signing in: %v\n%s", err, p.log.String())
	}
}
