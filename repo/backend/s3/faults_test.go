package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/retry"
	"strata/repo/backend/s3"
)

// fault is what the fault proxy does to one request.
type fault int

const (
	pass      fault = iota
	slowDown        // 503 SlowDown, the request not passed on
	internal        // 500 InternalError, not passed on
	reset           // the connection closed before any answer, not passed on
	stall           // no answer until the client gives up
	shortRead       // a GET passed on, its answer cut in the middle of the body
)

var faultNames = []string{"pass", "503 SlowDown", "500 InternalError", "connection reset", "stall", "short read"}

func (f fault) String() string { return faultNames[f] }

// faultProxy stands between the S3 backend and the MinIO server and
// injects the failures restic's and kopia's users meet on real object
// storage: throttling, server errors, reset connections, requests that
// hang, bodies cut short. A request that changes something (PUT, DELETE)
// fails only before it reaches the server, so that a failure never hides
// a success; a GET may be cut after the server answered.
type faultProxy struct {
	srv   *httptest.Server
	proxy *httputil.ReverseProxy
	to    *url.URL

	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64       // share of requests that get a fault
	only     fault         // when not pass: every request gets this fault
	stallFor time.Duration // how long a stalled request waits at most
	counts   map[fault]int // faults injected
}

func newFaultProxy(t *testing.T, endpoint string, rate float64, seed uint64, stall time.Duration) *faultProxy {
	to := &url.URL{Scheme: "http", Host: endpoint}
	p := &faultProxy{
		proxy:    httputil.NewSingleHostReverseProxy(to),
		to:       to,
		rng:      rand.New(rand.NewPCG(seed, 0)),
		rate:     rate,
		stallFor: max(5*time.Second, 2*stall),
		counts:   make(map[fault]int),
	}
	p.proxy.ErrorLog = log.New(io.Discard, "", 0) // the faults it passes on are the point
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// Endpoint is the proxy's host:port, which the backend's URL names.
func (p *faultProxy) Endpoint() string { return p.srv.Listener.Addr().String() }

// set makes every following request get f (pass: back to random faults
// at the proxy's rate).
func (p *faultProxy) set(f fault) {
	p.mu.Lock()
	p.only = f
	p.mu.Unlock()
}

func (p *faultProxy) injected() map[fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[fault]int)
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *faultProxy) pick(r *http.Request) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.only
	if f == pass {
		// No random fault on a HEAD: the S3 backend's Remove asks with
		// one whether the file exists, and the retrying wrapper takes a
		// Remove that finds no file after a failed attempt for one that
		// removed it (its documented trade-off), which the conformance
		// suite's Remove of a missing file would see as a success.
		// TestFaultsFail fails HEADs.
		if r.Method == http.MethodHead || p.rng.Float64() >= p.rate {
			return pass
		}
		f = fault(1 + p.rng.IntN(int(shortRead)))
	}
	if f == shortRead && r.Method != http.MethodGet {
		f = reset
	}
	p.counts[f]++
	return f
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p.pick(r) {
	case pass:
		p.proxy.ServeHTTP(w, r)
	case slowDown:
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case internal:
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case reset:
		abort(w)
	case stall:
		// Longer than the tests' stall timeouts; a server does not see
		// the client go while the request's body is unread, so the wait
		// is bounded.
		select {
		case <-r.Context().Done():
		case <-time.After(p.stallFor):
		}
		abort(w)
	case shortRead:
		p.cut(w, r)
	}
}

// cut passes a GET on and sends half of the answer's body.
func (p *faultProxy) cut(w http.ResponseWriter, r *http.Request) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.RequestURI = p.to.Scheme, p.to.Host, ""
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		abort(w)
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	n, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	io.CopyN(w, resp.Body, n/2)
	w.(http.Flusher).Flush()
	abort(w)
}

// abort closes the connection without (the rest of) an answer.
func abort(http.ResponseWriter) { panic(http.ErrAbortHandler) }

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
}

// TestFaultsFail: every fault fails the operation it hits, with an error
// the retrying wrapper retries (throttled for 503 SlowDown, transient for
// the rest), never a success with wrong bytes and never a sentinel that
// would make strata take the file for missing or present.
func TestFaultsFail(t *testing.T) {
	faultsFail(t, minioServer(t))
}

// TestFaultsFailSeaweedFS is TestFaultsFail against SeaweedFS.
func TestFaultsFailSeaweedFS(t *testing.T) {
	faultsFail(t, seaweedServer(t))
}

func faultsFail(t *testing.T, srv server) {
	p := newFaultProxy(t, srv.endpoint, 0, 1, srv.stall)
	bucket := srv.newBucket(t)
	cfg, err := s3.ParseURL("s3:http://" + p.Endpoint() + "/" + bucket + "/repo?stall-timeout=" + srv.stall.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.Create(ctx, cfg, envOf(srv.env()))
	if err != nil {
		t.Fatal(err)
	}
	// The file the faults read is stored directly, with the default
	// watchdog: SeaweedFS makes a bucket's volumes on its first write,
	// which under load keeps the PUT without an answer for seconds.
	direct, err := s3.ParseURL("s3:http://" + srv.endpoint + "/" + bucket + "/repo")
	if err != nil {
		t.Fatal(err)
	}
	d, err := s3.New(direct, envOf(srv.env()))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("strata "), 100_000)
	stored := backend.Handle{Type: backend.PackFile, Name: "abcdef01"}
	if err := d.Save(ctx, stored, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []fault{slowDown, internal, reset, stall, shortRead} {
		t.Run(f.String(), func(t *testing.T) {
			p.set(f)
			defer p.set(pass)
			ops := map[string]func() error{
				"Load":       func() error { _, err := b.Load(ctx, stored, 0, 0); return err },
				"Load range": func() error { _, err := b.Load(ctx, stored, 1000, 200_000); return err },
				"Save": func() error {
					return b.Save(ctx, backend.Handle{Type: backend.IndexFile, Name: "new" + f.String()[:1]}, backend.NewByteReader(data))
				},
				"List": func() error {
					return b.List(ctx, backend.PackFile, func(backend.FileInfo) error { return nil })
				},
			}
			if f != shortRead {
				ops["Stat"] = func() error { _, err := b.Stat(ctx, stored); return err }
				ops["Remove"] = func() error { return b.Remove(ctx, stored) }
			}
			for name, op := range ops {
				err := op()
				if err == nil {
					t.Errorf("%s succeeded through %v", name, f)
					continue
				}
				for _, sentinel := range []error{backend.ErrNotExist, backend.ErrExists, backend.ErrRange} {
					if errors.Is(err, sentinel) {
						t.Errorf("%s through %v: %v, which is %v", name, f, err, sentinel)
					}
				}
				want := backend.Transient
				if f == slowDown {
					want = backend.Throttled
				}
				if got := backend.KindOf(err); got != want {
					t.Errorf("%s through %v: %v is %v, want %v", name, f, err, got, want)
				}
			}
		})
	}
	p.set(pass)
	load := func() []byte {
		got, err := b.Load(ctx, stored, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if !bytes.Equal(load(), data) {
		t.Error("the stored pack changed")
	}
}

// TestConformanceThroughFaults runs the conformance suite over the
// retrying wrapper over the S3 backend, through the fault proxy failing
// one request in ten (each fault in turn: 503 SlowDown, 500, reset,
// stall, short read): the retries make every operation succeed as if
// nothing had failed.
func TestConformanceThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: several minutes of retries; run without -short (make test-long)")
	}
	conformanceThroughFaults(t, minioServer(t))
}

// TestConformanceThroughFaultsSeaweedFS is TestConformanceThroughFaults
// against SeaweedFS.
func TestConformanceThroughFaultsSeaweedFS(t *testing.T) {
	conformanceThroughFaults(t, seaweedServer(t))
}

func conformanceThroughFaults(t *testing.T, srv server) {
	var proxies []*faultProxy
	var mu sync.Mutex
	backendtest.Run(t, func(t *testing.T) backend.Storage {
		mu.Lock()
		p := newFaultProxy(t, srv.endpoint, 0.1, uint64(len(proxies)), srv.stall)
		proxies = append(proxies, p)
		mu.Unlock()
		cfg, err := s3.ParseURL("s3:http://" + p.Endpoint() + "/" + srv.newBucket(t) + "/repo?stall-timeout=" + srv.stall.String())
		if err != nil {
			t.Fatal(err)
		}
		b, err := s3.Create(ctx, cfg, envOf(srv.env()))
		for err != nil && backend.KindOf(err) != backend.Permanent {
			b, err = s3.Create(ctx, cfg, envOf(srv.env()))
		}
		if err != nil {
			t.Fatal(err)
		}
		return retry.New(b, retry.Options{Wait: 10 * time.Millisecond, MaxWait: 100 * time.Millisecond,
			ThrottledWait: 20 * time.Millisecond, MaxThrottledWait: 200 * time.Millisecond, MaxTime: time.Minute})
	})
	t.Cleanup(func() { // after the suite's parallel subtests
		total := make(map[fault]int)
		for _, p := range proxies {
			for f, n := range p.injected() {
				total[f] += n
			}
		}
		t.Logf("faults injected: %v", total)
		for _, f := range []fault{slowDown, internal, reset, stall, shortRead} {
			if total[f] == 0 {
				t.Errorf("no %v was injected", f)
			}
		}
	})
}
