package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"strata/repo/backend"
)

// Options tune the waits; the zero value gives the defaults.
type Options struct {
	// MaxTime is how long one operation may go on failing before the
	// last error is returned; default 5 minutes.
	MaxTime time.Duration
	// Wait is the first wait after a transient failure, doubled after
	// each further failure up to MaxWait; defaults 500 ms and 30 s.
	Wait, MaxWait time.Duration
	// ThrottledWait is the first wait after the storage asked to slow
	// down (503 SlowDown, 429), doubled up to MaxThrottledWait; defaults
	// 5 s and 2 minutes. A Retry-After the storage sent is waited at
	// least.
	ThrottledWait, MaxThrottledWait time.Duration
	// UnreachableTries is how many attempts an operation gets while
	// nothing answers at the storage's address (backend.Unreachable: a
	// refused connection, an unknown host) before it fails; default 3,
	// a few seconds in all, enough for a server that is restarting.
	UnreachableTries int
	// Logger receives a record at slog.LevelWarn for each retry; nil
	// drops them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.MaxTime, 5*time.Minute)
	def(&o.Wait, 500*time.Millisecond)
	def(&o.MaxWait, 30*time.Second)
	def(&o.ThrottledWait, 5*time.Second)
	def(&o.MaxThrottledWait, 2*time.Minute)
	if o.UnreachableTries <= 0 {
		o.UnreachableTries = 3
	}
	return o
}

// Backend is a backend.Storage that retries the operations of an inner
// one. It is safe for concurrent use.
type Backend struct {
	inner backend.Storage
	opts  Options
}

var (
	_ backend.Storage     = (*Backend)(nil)
	_ backend.TempRemover = (*Backend)(nil)
)

// New wraps inner.
func New(inner backend.Storage, opts Options) *Backend {
	return &Backend{inner: inner, opts: opts.withDefaults()}
}

// Wrap wraps the storage a remote backend.Scheme opened with the retry
// budget and notices of the scheme's options: what its Open returns.
func Wrap(inner backend.Storage, opts backend.Options) *Backend {
	return New(inner, Options{MaxTime: opts.MaxRetryTime, Logger: opts.Logger})
}

// Location implements backend.Storage: the inner storage's location.
func (b *Backend) Location() string { return b.inner.Location() }

// Remote implements backend.Remote for the storage it wraps.
func (b *Backend) Remote() bool { return backend.IsRemote(b.inner) }

// Unwrap returns the inner storage.
func (b *Backend) Unwrap() backend.Storage { return b.inner }

// do calls attempt until it succeeds, fails permanently, ctx is done or
// the budget is spent, and returns its last error. what names the
// operation and file for notices.
func (b *Backend) do(ctx context.Context, what string, attempt func() error) error {
	start := time.Now()
	w := waits{opts: b.opts}
	for {
		err := attempt()
		if err == nil || ctx.Err() != nil {
			return err
		}
		kind := backend.KindOf(err)
		if kind == backend.Permanent {
			return err
		}
		d := w.next(err)
		spent := time.Since(start)
		if kind == backend.Unreachable && w.unreachable >= b.opts.UnreachableTries {
			return fmt.Errorf("%w (gave up after %s in %v: nothing answers there)", err, attempts(w.failures), spent.Round(time.Millisecond))
		}
		if spent+d > b.opts.MaxTime {
			return fmt.Errorf("%w (gave up after %s in %v)", err, attempts(w.failures), spent.Round(time.Millisecond))
		}
		if b.opts.Logger != nil {
			b.opts.Logger.Warn(fmt.Sprintf("%s failed (%s, attempt %d), trying again in %v: %v", what, kind, w.failures, d.Round(time.Millisecond), err))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to try again after: %v)", context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// waits computes the wait before each retry of one operation: transient
// and throttled failures each double their own wait, from its first
// value up to its cap, and a wait is spread by jitter over its upper half.
type waits struct {
	opts              Options
	failures          int
	unreachable       int           // failures of kind Unreachable
	transient, slowed time.Duration // the last unjittered waits
}

// next returns the wait after the failure err (not Permanent). An
// Unreachable failure waits as a transient one.
func (w *waits) next(err error) time.Duration {
	w.failures++
	kind := backend.KindOf(err)
	if kind == backend.Unreachable {
		w.unreachable++
	}
	if kind != backend.Throttled {
		w.transient = double(w.transient, w.opts.Wait, w.opts.MaxWait)
		return jitter(w.transient)
	}
	w.slowed = double(w.slowed, w.opts.ThrottledWait, w.opts.MaxThrottledWait)
	d := jitter(w.slowed)
	var e *backend.Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

// double doubles the wait last, starting at first and capped at most.
func double(last, first, most time.Duration) time.Duration {
	if last <= 0 {
		return min(first, most)
	}
	return min(2*last, most)
}

// jitter spreads d over [d/2, d], so that clients that failed together
// do not come back together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
