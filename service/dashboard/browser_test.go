package dashboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"strata/internal/browsertest"
)

// TestRunNowInBrowser signs in through the form in headless Chromium,
// presses a job's "Run now" (a form POST with the CSRF token), and
// follows the run the daemon made to its log.
func TestRunNowInBrowser(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	shots := browsertest.ScreenshotDir(t)
	base, _ := serve(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs"), chromedp.SendKeys("#token", token), chromedp.Submit("#token"),
		chromedp.WaitVisible("p.filter")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.Click("table.jobs button"), chromedp.WaitVisible("p.ok")); err != nil {
		t.Fatalf("run now: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text("p.ok"))
	if err != nil || !strings.Contains(msg, "Queued db-daily") {
		t.Fatalf("after run now: %q, %v", msg, err)
	}
	var page string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs")); err != nil {
			t.Fatal(err)
		}
		if page, err = chromedp.Run(ctx, chromedp.Text("main")); err == nil && strings.Contains(page, "succeeded") {
			break
		}
	}
	if !strings.Contains(page, "succeeded") || !strings.Contains(page, "added 1 KiB") {
		t.Fatalf("the run does not appear as succeeded:\n%s", page)
	}
	browsertest.Screenshot(t, ctx, shots, "dashboard-runs-after-run-now")
	if err := chromedp.Do(ctx, chromedp.Click("table.runs a"), chromedp.WaitVisible("pre.log")); err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text("pre.log"))
	if err != nil || !strings.Contains(log, "backing up <b>customers</b>") {
		t.Errorf("the run's log: %q, %v", log, err)
	}
}
