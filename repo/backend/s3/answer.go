package s3

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// answerNote keeps what the transport saw of a request's answer that
// minio-go's errors drop: the Retry-After header of a 503 or 429. Each
// operation puts a note in its context (withNote); the watchdog, which
// sees every answer, fills it in; classify reads it.
type answerNote struct {
	mu         sync.Mutex
	retryAfter time.Duration
}

type noteKey struct{}

// withNote returns ctx carrying a new answerNote.
func withNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, noteKey{}, &answerNote{})
}

// noteOf returns the note of ctx; nil when it has none (whose methods
// read nothing).
func noteOf(ctx context.Context) *answerNote {
	n, _ := ctx.Value(noteKey{}).(*answerNote)
	return n
}

// RetryAfter is the wait the last throttling answer asked for; 0 when none
// said.
func (n *answerNote) RetryAfter() time.Duration {
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.retryAfter
}

// saw records the answer resp of a request made with ctx.
func saw(ctx context.Context, resp *http.Response, now time.Time) {
	n := noteOf(ctx)
	if n == nil || resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	d := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	n.mu.Lock()
	n.retryAfter = d
	n.mu.Unlock()
}

// maxRetryAfter bounds the wait a Retry-After may ask for: a server that
// asks for a day is not waited for a day (the retry budget gives up
// sooner anyway).
const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header (RFC 9110, 10.2.3): a number
// of seconds or an HTTP date. It returns 0 when there is none or it
// cannot be read.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
