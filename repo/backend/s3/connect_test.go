package s3_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strata/repo/repotest"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/repo/backend"
	"strata/repo/backend/retry"
	"strata/repo/backend/s3"
)

// noticeLog collects the retrying wrapper's notices.
type noticeLog struct {
	mu   sync.Mutex
	msgs []string
}

func (n *noticeLog) add(msg string) {
	n.mu.Lock()
	n.msgs = append(n.msgs, msg)
	n.mu.Unlock()
}

func (n *noticeLog) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

// unboundBackend returns a backend for rawURL ("http://host:port/bucket")
// with made-up credentials; it needs no server.
func unboundBackend(t *testing.T, rawURL string) *s3.Backend {
	t.Helper()
	cfg, err := s3.ParseURL("s3:" + rawURL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.New(cfg, envOf([]string{"AWS_ACCESS_KEY_ID=strata", "AWS_SECRET_ACCESS_KEY=strata-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRefusedConnectionFailsFast: with nothing listening at the endpoint,
// an operation is tried UnreachableTries times and fails with an error
// naming the endpoint, instead of being retried for the whole budget.
func TestRefusedConnectionFailsFast(t *testing.T) {
	addr := closedPort(t)
	n := &noticeLog{}
	r := retry.New(unboundBackend(t, "http://"+addr+"/bucket/repo"),
		retry.Options{Wait: 5 * time.Millisecond, MaxWait: 10 * time.Millisecond, MaxTime: time.Minute, Logger: repotest.Notices(n.add)})
	_, err := r.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if err == nil {
		t.Fatal("Stat succeeded with nothing listening")
	}
	if got := backend.KindOf(err); got != backend.Unreachable {
		t.Errorf("error is %v, want unreachable: %v", got, err)
	}
	for _, want := range []string{"connection refused by " + addr, "nothing listens there", "gave up after 3 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if msgs := n.all(); len(msgs) != 2 {
		t.Errorf("%d retries, want 2 (3 attempts): %q", len(msgs), msgs)
	}

	// The same through the scheme, as strata opens a repository, with
	// its default budget of minutes.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = s3.Scheme().Open(ctx, "http://"+addr+"/bucket", backend.Options{
		Getenv: envOf([]string{"AWS_ACCESS_KEY_ID=strata", "AWS_SECRET_ACCESS_KEY=strata-secret"})})
	if ctx.Err() != nil || backend.KindOf(err) != backend.Unreachable {
		t.Errorf("opening a repository with nothing listening: %v (context: %v)", err, ctx.Err())
	}
}

// TestUnknownHostFailsFast: a host name that does not resolve fails
// after a few attempts too.
func TestUnknownHostFailsFast(t *testing.T) {
	n := &noticeLog{}
	r := retry.New(unboundBackend(t, "http://no-such-host.invalid:9000/bucket"),
		retry.Options{Wait: 5 * time.Millisecond, MaxWait: 10 * time.Millisecond, MaxTime: time.Minute, Logger: repotest.Notices(n.add)})
	_, err := r.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if backend.KindOf(err) != backend.Unreachable || !strings.Contains(err.Error(), "unknown host no-such-host.invalid") {
		t.Errorf("got %v (%v), want unreachable naming the host", err, backend.KindOf(err))
	}
	if len(n.all()) != 2 {
		t.Errorf("retries: %q, want 2", n.all())
	}
}

// TestTLSMismatchIsPermanent: https:// to an endpoint that speaks plain
// HTTP, and https:// to one whose certificate is not trusted, fail at
// once with a permanent error that says so: retrying cannot help.
func TestTLSMismatchIsPermanent(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	untrusted.StartTLS()
	defer untrusted.Close()
	for _, c := range []struct {
		name, host, want string
	}{
		{"plain HTTP endpoint", plain.Listener.Addr().String(), "answers in plain HTTP, not HTTPS"},
		{"untrusted certificate", untrusted.Listener.Addr().String(), "is not trusted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := &noticeLog{}
			r := retry.New(unboundBackend(t, "https://"+c.host+"/bucket"),
				retry.Options{Wait: 5 * time.Millisecond, MaxWait: 10 * time.Millisecond, MaxTime: time.Minute, Logger: repotest.Notices(n.add)})
			_, err := r.Load(ctx, backend.Handle{Type: backend.ConfigFile}, 0, 0)
			if backend.KindOf(err) != backend.Permanent || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.host) {
				t.Errorf("got %v (%v), want a permanent error saying %q and naming %s", err, backend.KindOf(err), c.want, c.host)
			}
			if msgs := n.all(); len(msgs) != 0 {
				t.Errorf("retried: %q", msgs)
			}
		})
	}
}

// TestRetryAfterHonoured: a 503 or 429 with a Retry-After header (seconds
// or an HTTP date) is waited as long as it asks, not the wrapper's own
// throttled wait.
func TestRetryAfterHonoured(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
		header func() string
		want   time.Duration
	}{
		{http.StatusServiceUnavailable, "SlowDown", func() string { return "7" }, 7 * time.Second},
		{http.StatusTooManyRequests, "TooManyRequests", func() string { return time.Now().Add(42 * time.Second).UTC().Format(http.TimeFormat) }, 42 * time.Second},
	} {
		t.Run(c.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", c.header())
				s3Error(w, c.status, c.code, "Please reduce your request rate.")
			}))
			defer srv.Close()
			b := unboundBackend(t, srv.URL+"/bucket")
			_, err := b.Load(ctx, backend.Handle{Type: backend.ConfigFile}, 0, 0)
			var e *backend.Error
			if !errors.As(err, &e) || e.Kind != backend.Throttled {
				t.Fatalf("got %v, want a throttled error", err)
			}
			// An HTTP date has a resolution of a second.
			if e.RetryAfter < c.want-2*time.Second || e.RetryAfter > c.want {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, c.want)
			}

			// The retrying wrapper waits that long: its first notice says
			// so, and the test stops it there.
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			n := &noticeLog{}
			r := retry.New(b, retry.Options{ThrottledWait: 10 * time.Millisecond, MaxThrottledWait: 20 * time.Millisecond, MaxTime: time.Hour,
				Logger: repotest.Notices(func(msg string) { n.add(msg); cancel() })})
			if _, err := r.Load(ctx, backend.Handle{Type: backend.ConfigFile}, 0, 0); err == nil {
				t.Fatal("Load succeeded")
			}
			msgs := n.all()
			if len(msgs) != 1 {
				t.Fatalf("notices %q, want one", msgs)
			}
			var waited time.Duration
			if m := regexp.MustCompile(`trying again in (\S+):`).FindStringSubmatch(msgs[0]); m != nil {
				waited, _ = time.ParseDuration(m[1])
			}
			if waited < c.want-2*time.Second || waited > c.want {
				t.Errorf("notice %q: want a wait of %v", msgs[0], c.want)
			}
		})
	}
}
