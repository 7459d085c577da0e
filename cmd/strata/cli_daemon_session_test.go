package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestDaemonSIGHUPNewTokenEndsSessions: a dashboard session of strata
// daemon --listen ends when the token changes: the token file rewritten
// and SIGHUP sent, the old session's cookie and the old token are
// refused, and the new token works.
func TestDaemonSIGHUPNewTokenEndsSessions(t *testing.T) {
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
`)
	tokenFile := filepath.Join(e.dir, "dashboard.token")
	oldToken, newToken := strings.Repeat("a1", 20), strings.Repeat("b2", 20)
	if err := os.WriteFile(tokenFile, []byte(oldToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon("--listen", "127.0.0.1:0", "--token-file", tokenFile)
	addr := regexp.MustCompile(`dashboard on (http://127\.0\.0\.1:\d+)/`)
	var base string
	p.waitFor("the dashboard's address", func() bool {
		m := addr.FindStringSubmatch(p.log.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/login", url.Values{"token": {oldToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "strata_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("sign-in: %d, no session cookie", resp.StatusCode)
	}
	status := func(set func(*http.Request)) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/runs", nil)
		set(req)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	withSession := func(r *http.Request) { r.AddCookie(session) }
	bearerOf := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if code := status(withSession); code != http.StatusOK {
		t.Fatalf("the session before the new token: %d", code)
	}
	if err := os.WriteFile(tokenFile, []byte(newToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the new token", func() bool { return strings.Contains(p.log.String(), "the token changed; every session ended") })
	if code := status(withSession); code != http.StatusUnauthorized {
		t.Errorf("the old session after the new token: %d, want 401", code)
	}
	if code := status(bearerOf(oldToken)); code != http.StatusUnauthorized {
		t.Errorf("the old token: %d, want 401", code)
	}
	if code := status(bearerOf(newToken)); code != http.StatusOK {
		t.Errorf("the new token: %d, want 200", code)
	}
	p.stop()
	if strings.Contains(p.log.String(), oldToken) || strings.Contains(p.log.String(), newToken) {
		t.Fatalf("the daemon's log holds a token:\n%s", p.log.String())
	}
}
