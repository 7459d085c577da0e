package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"strata/service/daemon"
	"strata/service/dashboard"
	"strata/service/health"
	"strata/service/state"
)

const token = "0123456789abcdef0123456789abcdef-test"

// fixedSource is a Source with fixed contents: the web layer's tests
// need known pages; the real repository behind `strata serve` is tested
// in cmd/strata (TestServeBrowser).
type fixedSource struct{}

func (fixedSource) Health(context.Context) (*health.Report, error) {
	now := time.Now()
	newest := now.Add(-3 * time.Hour)
	return &health.Report{Status: health.Warning, Jobs: []health.JobHealth{{Job: "db-daily", Source: "postgres://db1:5432/customers", Tier: "daily",
		Status: health.OK, Snapshots: 3, Keep: 30, Newest: &newest, AgeSeconds: 3 * 3600, MaxAgeSeconds: 26 * 3600}},
		Drills: []health.DrillHealth{{Source: "postgres://db1:5432/customers", Status: health.OK, OK: true, Time: now, RestoreSeconds: 2.5, Tables: 1,
			TableResults: []health.DrillTable{{Table: "public.orders", Rows: 120, LoadSeconds: 1.75, OK: true}}}},
		Findings: []health.Finding{{ID: "check", Status: health.Warning, Message: "no check recorded"}}}, nil
}

func (fixedSource) Growth(context.Context) ([]dashboard.GrowthPoint, error) {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []dashboard.GrowthPoint{{Time: t, Tier: "daily", AddedBytes: 1000, RawBytes: 5000}, {Time: t.Add(24 * time.Hour), Tier: "daily", AddedBytes: 100, RawBytes: 5100}}, nil
}

func (fixedSource) Tables(context.Context) ([]dashboard.SourceTables, error) {
	return []dashboard.SourceTables{{Source: "postgres://db1:5432/customers", Snapshot: "abababab", Time: time.Now(), Tier: "daily",
		Tables: []dashboard.TableStatus{{Name: "public.orders", Rows: 120, PrevRows: 100, InPrev: true}, {Name: "public.refunds", Rows: 3}}}}, nil
}

func (fixedSource) Snapshots(context.Context) (*dashboard.SnapshotList, error) {
	return &dashboard.SnapshotList{Policy: "--keep-daily 30", Snapshots: []dashboard.Snapshot{{ID: strings.Repeat("ab", 32), ShortID: "abababab",
		Time: time.Now(), Host: "h", Source: "stdin:x", Tier: "daily", Tags: []string{"<script>alert(1)</script>"}, Keep: true, Reasons: []string{"daily 2026-01-02"}}}}, nil
}

// serve starts the dashboard with a real daemon (one job, no schedule)
// on a loopback port.
func serve(t *testing.T) (base string, st *state.Store) {
	t.Helper()
	base, st, _ = serveWith(t, nil)
	return base, st
}

// serveWith is serve with the options edit changes, and the server.
func serveWith(t *testing.T, edit func(*dashboard.Options)) (base string, st *state.Store, srv *dashboard.Server) {
	t.Helper()
	st, err := state.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	d, err := daemon.New([]daemon.Job{{Name: "db-daily", Kind: "backup", Tier: "daily", Source: "db", Repository: "/r"}},
		daemon.Options{Store: st, Runner: daemon.RunnerFunc(func(ctx context.Context, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
			log.Info("backing up <b>customers</b>")
			ran <- struct{}{}
			return daemon.Outcome{Summary: "added 1 KiB"}, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	opts := dashboard.Options{Token: token, Source: fixedSource{}, History: st, Scheduler: d, Version: "test"}
	if edit != nil {
		edit(&opts)
	}
	srv, err = dashboard.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String(), st, srv
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string, set func(*http.Request)) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if set != nil {
		set(req)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func bearer(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }

func TestTokenRequired(t *testing.T) {
	for _, p := range []string{"/", "/charts", "/snapshots", "/drills", "/runs", "/runs/x"} {
		// A server of its own for each page: wrong tokens count against
		// the address (TestSignInRateLimit).
		base, _ := serve(t)
		for name, set := range map[string]func(*http.Request){
			"none":         nil,
			"wrong bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token+"x") },
			"wrong cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "strata_session", Value: token}) },
		} {
			code, body, h := get(t, base+p, set)
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s with %s token: %d, want 401", p, name, code)
			}
			if strings.Contains(body, "db-daily") || strings.Contains(body, "customers") {
				t.Errorf("GET %s with %s token shows the repository's data", p, name)
			}
			if h.Get("Content-Security-Policy") == "" {
				t.Errorf("GET %s: no Content-Security-Policy", p)
			}
		}
		if code, _, _ := get(t, base+p, bearer); code != http.StatusOK && p != "/runs/x" {
			t.Errorf("GET %s with the token: %d", p, code)
		}
	}
	base, _ := serve(t)
	resp, err := noRedirect.PostForm(base+"/jobs/db-daily/run", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST run now without the token: %d, want 401", resp.StatusCode)
	}
}

func TestLoginCookieAndCSRF(t *testing.T) {
	base, st := serve(t)
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"token": {"wrong-token-wrong-token-wrong-token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("sign-in with a wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, err = noRedirect.PostForm(base+"/login", url.Values{"token": {token}, "next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q, want 303 to / (no redirect off the server)", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "strata_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, token) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not the token", session)
	}
	withCookie := func(r *http.Request) { r.AddCookie(session) }
	code, body, _ := get(t, base+"/", withCookie)
	if code != 200 || !strings.Contains(body, "db-daily") {
		t.Fatalf("overview with the cookie: %d\n%s", code, body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if csrf == nil {
		t.Fatal("no CSRF token in the overview's forms")
	}
	post := func(vals url.Values) *http.Response {
		req, _ := http.NewRequest("POST", base+"/jobs/db-daily/run", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(session)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("run now with the cookie and no CSRF token: %d, want 403", resp.StatusCode)
	}
	resp = post(url.Values{"csrf": {csrf[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("run now: %d, want 303", resp.StatusCode)
	}
	// The job runs in the daemon; its record and log appear.
	var runs []state.Run
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if runs, _ = st.Runs("db-daily", 1); len(runs) == 1 && runs[0].Result == state.Succeeded {
			break
		}
	}
	if len(runs) != 1 || runs[0].Result != state.Succeeded {
		t.Fatalf("run now queued no run that succeeded: %+v", runs)
	}
	code, body, _ = get(t, base+"/runs/"+url.PathEscape(runs[0].ID), withCookie)
	if code != 200 || !strings.Contains(body, "backing up &lt;b&gt;customers&lt;/b&gt;") {
		t.Errorf("run page: %d, want its log, escaped\n%s", code, body)
	}
}

func TestEscaping(t *testing.T) {
	base, _ := serve(t)
	_, body, _ := get(t, base+"/snapshots", bearer)
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("a tag with markup is not escaped:\n%s", body)
	}
	_, body, _ = get(t, base+"/", bearer)
	for _, w := range []string{"public.orders", "&#43;20", "public.refunds", "new", "120 rows loaded in 1.75s", "not in the last drill"} {
		if !strings.Contains(body, w) {
			t.Errorf("overview lacks %q", w)
		}
	}
	_, body, _ = get(t, base+"/charts", bearer)
	if !strings.Contains(body, "<polyline") || !strings.Contains(body, "<svg") {
		t.Errorf("the charts page has no SVG chart")
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr       string
		configured bool
		ok         bool
	}{
		{"127.0.0.1:8420", false, true},
		{"[::1]:8420", false, true},
		{"localhost:8420", false, true},
		{"0.0.0.0:8420", false, false},
		{":8420", false, false},
		{"192.0.2.1:8420", false, false},
		{"0.0.0.0:8420", true, true},
		{"no-port", true, false},
	} {
		err := dashboard.CheckListen(tc.addr, tc.configured)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %v) = %v, want ok %v", tc.addr, tc.configured, err, tc.ok)
		}
	}
}

func TestTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dashboard-token")
	tok, created, err := dashboard.LoadOrCreateTokenFile(path)
	if err != nil || !created || len(tok) < dashboard.MinTokenLen {
		t.Fatalf("LoadOrCreateTokenFile: %q, %v, %v", tok, created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	again, created, err := dashboard.LoadOrCreateTokenFile(path)
	if err != nil || created || again != tok {
		t.Errorf("second LoadOrCreateTokenFile: %v, %v: not the same token", created, err)
	}
	os.Chmod(path, 0o644)
	if _, err := dashboard.ReadTokenFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a token file readable by others: %v, want refused", err)
	}
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	if _, err := dashboard.ReadTokenFile(short); err == nil {
		t.Error("a 3-character token was accepted")
	}
}

// TestLoginNoOpenRedirect: the sign-in's next= stays on this server,
// also where a browser would turn it into another host (it strips tabs
// and newlines from a URL, and reads a backslash as a slash).
func TestLoginNoOpenRedirect(t *testing.T) {
	base, _ := serve(t)
	for _, tc := range []struct{ next, want string }{
		{"/runs", "/runs"},
		{"/runs?job=db-daily", "/runs?job=db-daily"},
		{"//evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"/\t/evil.example/", "/"},
		{"/\n/evil.example/", "/"},
		{"/\r\n/evil.example/", "/"},
		{"\t//evil.example/", "/"},
		{"https://evil.example/", "/"},
		{"/%09/evil.example/", "/%09/evil.example/"},
	} {
		// The transport, not a client: the client refuses to parse
		// such a Location, a browser follows it.
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"token": {token}, "next": {tc.next}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("sign-in with next=%q: %d to %q, want 303 to %q", tc.next, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
}
