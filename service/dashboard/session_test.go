package dashboard_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strata/service/dashboard"
)

// signIn posts the sign-in form with tok through client and returns the
// session cookie (nil when none was set) and the status.
func signIn(t *testing.T, client *http.Client, base, tok string) (*http.Cookie, int, http.Header) {
	t.Helper()
	resp, err := client.PostForm(base+"/login", url.Values{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "strata_session" && c.Value != "" {
			return c, resp.StatusCode, resp.Header
		}
	}
	return nil, resp.StatusCode, resp.Header
}

func withCookie(c *http.Cookie) func(*http.Request) { return func(r *http.Request) { r.AddCookie(c) } }

// TestSessionsAreRandomAndRevocable: each sign-in gets a session of its
// own, a random ID that is neither the token nor derived from it alone
// (two sign-ins get two IDs), with HttpOnly and SameSite=Strict and a
// Max-Age of the session's lifetime; signing out ends the session on the
// server, so its cookie replayed signs no one in, while another
// session goes on.
func TestSessionsAreRandomAndRevocable(t *testing.T) {
	base, _ := serve(t)
	a, code, _ := signIn(t, noRedirect, base, token)
	b, _, _ := signIn(t, noRedirect, base, token)
	if a == nil || b == nil || code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d, cookies %v %v", code, a, b)
	}
	if a.Value == b.Value || len(a.Value) != 64 || strings.Contains(a.Value, token) {
		t.Fatalf("session IDs %q and %q: want two random 256-bit IDs", a.Value, b.Value)
	}
	if !a.HttpOnly || a.SameSite != http.SameSiteStrictMode || a.Secure || a.MaxAge != int(dashboard.DefaultSessionLifetime/time.Second) {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure without TLS, Max-Age 12h", a)
	}
	code, body, _ := get(t, base+"/", withCookie(a))
	csrf := regexp.MustCompile(`action="/logout" class="logout"><input type="hidden" name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if code != 200 || csrf == nil {
		t.Fatalf("overview with the session: %d, sign-out form %v", code, csrf)
	}
	// Session b's CSRF token does not fit session a's forms.
	_, bodyB, _ := get(t, base+"/", withCookie(b))
	if strings.Contains(bodyB, csrf[1]) {
		t.Fatal("two sessions share a CSRF token")
	}
	req, _ := http.NewRequest("POST", base+"/logout", strings.NewReader(url.Values{"csrf": {csrf[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(a)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body, _ := get(t, base+"/", withCookie(a)); code != http.StatusUnauthorized || strings.Contains(body, "db-daily") {
		t.Fatalf("the signed-out session's cookie replayed: %d, want 401", code)
	}
	if code, _, _ := get(t, base+"/", withCookie(b)); code != 200 {
		t.Fatalf("the other session after a sign-out: %d, want 200", code)
	}
}

// TestSessionExpires: a session ends on the server once its lifetime
// (Options.SessionLifetime, strata.yaml's dashboard.session_lifetime)
// has passed, whatever the browser keeps.
func TestSessionExpires(t *testing.T) {
	var offset atomic.Int64
	base, _, _ := serveWith(t, func(o *dashboard.Options) {
		o.SessionLifetime = time.Hour
		o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	c, _, _ := signIn(t, noRedirect, base, token)
	if c == nil || c.MaxAge != 3600 {
		t.Fatalf("cookie %+v, want Max-Age 3600", c)
	}
	offset.Store(int64(59 * time.Minute))
	if code, _, _ := get(t, base+"/", withCookie(c)); code != 200 {
		t.Fatalf("after 59 minutes: %d, want 200", code)
	}
	offset.Store(int64(61 * time.Minute))
	if code, _, _ := get(t, base+"/", withCookie(c)); code != http.StatusUnauthorized {
		t.Fatalf("after 61 minutes: %d, want 401", code)
	}
}

// TestNewTokenEndsSessions: SetToken (the daemon's and strata serve's
// SIGHUP with a rewritten token file) ends every session and refuses the
// old token; the new one signs in.
func TestNewTokenEndsSessions(t *testing.T) {
	base, _, srv := serveWith(t, nil)
	c, _, _ := signIn(t, noRedirect, base, token)
	newToken := strings.Repeat("f", 40)
	if err := srv.SetToken(newToken); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, base+"/", withCookie(c)); code != http.StatusUnauthorized {
		t.Fatalf("a session of the old token: %d, want 401", code)
	}
	if code, _, _ := get(t, base+"/", bearer); code != http.StatusUnauthorized {
		t.Fatalf("the old token: %d, want 401", code)
	}
	if c2, code, _ := signIn(t, noRedirect, base, newToken); c2 == nil || code != http.StatusSeeOther {
		t.Fatalf("sign-in with the new token: %d", code)
	}
	if err := srv.SetToken("short"); err == nil {
		t.Fatal("SetToken took a token too short")
	}
}

// fromAddr is a client whose connections come from the loopback address
// ip (Linux routes all of 127.0.0.0/8 to lo).
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }},
		CheckRedirect: noRedirect.CheckRedirect,
	}
}

// TestSignInRateLimit: after MaxSignInFailures wrong tokens from one
// address, its wrong sign-ins and wrong bearer tokens are refused with
// 429 and Retry-After, while the right token still passes from it, by
// the form and by bearer (so wrong guesses from 127.0.0.1 cannot blind a
// Prometheus scraping /metrics from there); wrong bearer tokens count as
// wrong sign-ins do.
func TestSignInRateLimit(t *testing.T) {
	base, _, _ := serveWith(t, func(o *dashboard.Options) {
		o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("strata_up 1\n")) })
	})
	attacker, other := fromAddr("127.0.0.2"), fromAddr("127.0.0.3")
	for i := range dashboard.MaxSignInFailures {
		if _, code, _ := signIn(t, attacker, base, "wrong-"+strconv.Itoa(i)+strings.Repeat("x", 40)); code != http.StatusUnauthorized {
			t.Fatalf("wrong sign-in %d: %d, want 401", i+1, code)
		}
	}
	c, code, h := signIn(t, attacker, base, "wrong-again"+strings.Repeat("x", 40))
	secs, _ := strconv.Atoi(h.Get("Retry-After"))
	if code != http.StatusTooManyRequests || c != nil || secs < 60 || secs > int(dashboard.SignInWindow/time.Second) {
		t.Fatalf("wrong sign-in after %d wrong ones: %d, Retry-After %q, cookie %v; want 429 within the window", dashboard.MaxSignInFailures, code, h.Get("Retry-After"), c)
	}
	bearerFrom := func(client *http.Client, path, tok string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := bearerFrom(attacker, "/metrics", "wrong-bearer"); code != http.StatusTooManyRequests {
		t.Fatalf("a wrong bearer token from the limited address: %d, want 429", code)
	}
	if code := bearerFrom(attacker, "/metrics", token); code != http.StatusOK {
		t.Fatalf("the right bearer token on /metrics from the limited address: %d, want 200", code)
	}
	if code := bearerFrom(attacker, "/", token); code != http.StatusOK {
		t.Fatalf("the right bearer token from the limited address: %d, want 200", code)
	}
	if c, code, _ := signIn(t, attacker, base, token); c == nil || code != http.StatusSeeOther {
		t.Fatalf("the right token's sign-in from the limited address: %d, want 303 with a session", code)
	}
	if c, code, _ := signIn(t, other, base, token); c == nil || code != http.StatusSeeOther {
		t.Fatalf("sign-in from another address: %d, want 303 with a session", code)
	}
	// Wrong bearer tokens count too.
	for i := range dashboard.MaxSignInFailures {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("Authorization", "Bearer wrong-"+strconv.Itoa(i))
		resp, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if _, code, _ := signIn(t, other, base, "wrong-form"+strings.Repeat("x", 40)); code != http.StatusTooManyRequests {
		t.Fatalf("wrong sign-in after %d wrong bearer tokens: %d, want 429", dashboard.MaxSignInFailures, code)
	}
	if code := bearerFrom(other, "/metrics", token); code != http.StatusOK {
		t.Fatalf("the right bearer token after %d wrong bearer tokens: %d, want 200", dashboard.MaxSignInFailures, code)
	}
}

// TestSessionCookieSecureOverTLS: served over TLS, the session cookie is
// Secure (a browser never sends it in clear).
func TestSessionCookieSecureOverTLS(t *testing.T) {
	_, _, srv := serveWith(t, nil)
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.CheckRedirect = noRedirect.CheckRedirect
	c, code, _ := signIn(t, client, ts.URL, token)
	if c == nil || code != http.StatusSeeOther || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in over TLS: %d, cookie %+v; want Secure, HttpOnly, SameSite=Strict", code, c)
	}
}
