package retry

import (
	"errors"
	"testing"
	"time"

	"strata/repo/backend"
)

// TestWaits: transient waits double from Wait up to MaxWait, throttled
// ones from ThrottledWait up to MaxThrottledWait, each jittered over its
// upper half, and a Retry-After is waited at least.
func TestWaits(t *testing.T) {
	opts := Options{Wait: 100 * time.Millisecond, MaxWait: time.Second, ThrottledWait: 2 * time.Second, MaxThrottledWait: 10 * time.Second}.withDefaults()
	transient := errors.New("connection reset")
	slowDown := backend.MarkThrottled(errors.New("503 SlowDown"), 0)
	retryAfter := backend.MarkThrottled(errors.New("429"), 45*time.Second)

	w := waits{opts: opts}
	for i, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		if d := w.next(transient); d < want/2 || d > want {
			t.Errorf("transient wait %d: %v, want %v to %v", i+1, d, want/2, want)
		}
	}
	w = waits{opts: opts}
	for i, want := range []time.Duration{2, 4, 8, 10, 10} {
		want *= time.Second
		if d := w.next(slowDown); d < want/2 || d > want {
			t.Errorf("throttled wait %d: %v, want %v to %v", i+1, d, want/2, want)
		}
	}
	if d := w.next(retryAfter); d != 45*time.Second {
		t.Errorf("wait after Retry-After 45s: %v", d)
	}
	// A throttled failure after transient ones waits the throttled wait.
	w = waits{opts: opts}
	w.next(transient)
	if d := w.next(slowDown); d < time.Second {
		t.Errorf("throttled wait after a transient one: %v, want at least 1s", d)
	}
	if w.failures != 2 {
		t.Errorf("failures = %d, want 2", w.failures)
	}
}
