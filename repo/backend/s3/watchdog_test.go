package s3_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strata/repo/backend"
	"strata/repo/backend/s3"
)

// stallingServer answers every request after a few bytes of the answer's
// body, or none, then hangs until the client gives up: a server stuck on
// one request, or a dead connection that never closes.
func stallingServer(t *testing.T, bodyBytes int) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if bodyBytes > 0 {
			w.Header().Set("Content-Length", "1000")
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("ETag", `"abc"`)
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(strings.Repeat("x", bodyBytes)))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, &requests
}

// TestWatchdogCancelsStalledRequest: a request that moves no byte for the
// stall timeout fails, soon, with a transient error (which the retrying
// wrapper retries), not with the caller's cancellation and not never.
func TestWatchdogCancelsStalledRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bodyBytes int
	}{
		{"no answer", 0},
		{"answer stops", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := stallingServer(t, tc.bodyBytes)
			cfg, err := s3.ParseURL("s3:" + srv.URL + "/bucket/prefix?stall-timeout=500ms&region=us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			b, err := s3.New(cfg, envOf([]string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=testtesttest"}))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			h := backend.Handle{Type: backend.IndexFile, Name: "abcd"}
			_, err = b.Load(ctx, h, 0, 0)
			took := time.Since(start)
			if err == nil {
				t.Fatal("Load of a stalled request succeeded")
			}
			if !strings.Contains(err.Error(), "no progress for 500ms") || errors.Is(err, backend.ErrNotExist) {
				t.Errorf("Load: got %v, want a stalled request", err)
			}
			if backend.KindOf(err) != backend.Transient {
				t.Errorf("Load: %v is %v, want transient", err, backend.KindOf(err))
			}
			if took > 10*time.Second {
				t.Errorf("Load gave up after %v, want about the stall timeout", took)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("the server saw %d requests, want 1 (retries are the wrapper's)", n)
			}
		})
	}
}
