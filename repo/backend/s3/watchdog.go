package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// errStalled marks a request the watchdog cancelled; classify makes it
// transient, so the retrying wrapper tries it again.
var errStalled = errors.New("request stalled")

// watchdog is an http.RoundTripper that cancels a request when no byte has
// moved for stall: none of its body sent, no answer, none of the answer's
// body read. A connection that hangs without closing (a dead NAT entry, a
// server stuck on one request) would otherwise hold a backup forever;
// restic and kopia users learned to want this. A slow transfer that keeps
// moving is never cancelled, whatever its length.
type watchdog struct {
	inner http.RoundTripper
	stall time.Duration
}

func (w *watchdog) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	d := &deadman{cancel: cancel, stall: w.stall}
	d.timer = time.AfterFunc(w.stall, d.fire)
	req = req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength != 0 {
		req.Body = &watchedBody{rc: req.Body, d: d}
	}
	resp, err := w.inner.RoundTrip(req)
	if err != nil {
		d.stop()
		cancel(nil)
		return nil, d.explain(ctx, err)
	}
	d.progress()
	saw(req.Context(), resp, time.Now())
	resp.Body = &watchedBody{rc: resp.Body, d: d, ctx: ctx, done: func() { d.stop(); cancel(nil) }}
	return resp, nil
}

// deadman cancels its request unless progress keeps resetting its timer.
type deadman struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	cancel  context.CancelCauseFunc
	stall   time.Duration
}

func (d *deadman) fire() {
	d.cancel(fmt.Errorf("no progress for %v: %w", d.stall, errStalled))
}

func (d *deadman) progress() {
	d.mu.Lock()
	if !d.stopped {
		d.timer.Reset(d.stall)
	}
	d.mu.Unlock()
}

func (d *deadman) stop() {
	d.mu.Lock()
	d.stopped = true
	d.timer.Stop()
	d.mu.Unlock()
}

// explain replaces the error of a request the watchdog cancelled with the
// reason, so that it is not taken for the caller's cancellation.
func (d *deadman) explain(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
		return cause
	}
	return err
}

// watchedBody reports each read as progress; for an answer's body it
// explains a stall and stops the watchdog on Close.
type watchedBody struct {
	rc   io.ReadCloser
	d    *deadman
	ctx  context.Context // the request's, set for an answer's body
	done func()
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.d.progress()
	}
	if err != nil && err != io.EOF && b.ctx != nil {
		err = b.d.explain(b.ctx, err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	if b.done != nil {
		b.once.Do(b.done)
	}
	return err
}
