package dashboard_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"strata/internal/browsertest"
	"strata/service/dashboard"
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

// TestSignOutInBrowser: in headless Chromium, the Sign out button ends
// the session on the server (its cookie, read from the browser and
// replayed, signs no one in); five wrong tokens typed into the form
// then get the page that says to wait, even for the right token.
func TestSignOutInBrowser(t *testing.T) {
	ctx := browsertest.New(t, 90*time.Second)
	shots := browsertest.ScreenshotDir(t)
	base, _ := serve(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.SendKeys("#token", token), chromedp.Submit("#token"),
		chromedp.WaitVisible("form.logout button")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	var got struct {
		Cookies []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"cookies"`
	}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return tg.Call(ctx, "Storage.getCookies", map[string]any{}, &got)
	}))
	var session *http.Cookie
	for _, c := range got.Cookies {
		if c.Name == "strata_session" {
			session = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if err != nil || session == nil {
		t.Fatalf("the browser's session cookie: %v, %v", got, err)
	}
	if code, _, _ := get(t, base+"/", withCookie(session)); code != 200 {
		t.Fatalf("the browser's session replayed before sign-out: %d", code)
	}
	if err := chromedp.Do(ctx, chromedp.Click("form.logout button"), chromedp.WaitVisible("#token")); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	browsertest.Screenshot(t, ctx, shots, "dashboard-signed-out")
	if code, _, _ := get(t, base+"/", withCookie(session)); code != http.StatusUnauthorized {
		t.Fatalf("the browser's session replayed after sign-out: %d, want 401", code)
	}
	for i := range dashboard.MaxSignInFailures {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.SendKeys("#token", "wrong-token-"+strconv.Itoa(i)),
			chromedp.Submit("#token"), chromedp.WaitVisible("p.error")); err != nil {
			t.Fatalf("wrong sign-in %d: %v", i+1, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.SendKeys("#token", "wrong-token-again"), chromedp.Submit("#token"),
		chromedp.WaitVisible("body")); err != nil {
		t.Fatal(err)
	}
	var text string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if text, err = chromedp.Run(ctx, chromedp.Text("body")); err == nil && strings.Contains(text, "too many wrong tokens") {
			break
		}
	}
	if !strings.Contains(text, "too many wrong tokens from this address") {
		t.Fatalf("the sixth sign-in shows %q, want the rate limit's page", text)
	}
	browsertest.Screenshot(t, ctx, shots, "dashboard-sign-in-rate-limited")
}
