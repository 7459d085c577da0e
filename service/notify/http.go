package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const defaultTimeout = 30 * time.Second

// SendError is a failed delivery: Retry says whether trying again may
// help (a network error, a 5xx, a 429), RetryAfter how long the receiver
// asked to wait.
type SendError struct {
	Err        error
	Retry      bool
	RetryAfter time.Duration
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// post sends body to the URL in secret u and reads the answer. Errors
// never hold the URL: net/http's *url.Error quotes it whole, so only the
// error inside it is kept (a Slack or Discord URL's path is its token, a
// healthchecks URL's its check).
func post(ctx context.Context, client *http.Client, u string, contentType string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &SendError{Err: errors.New("the url is not a valid URL")}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "strata")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		// Net errors and timeouts, this attempt's own included, may pass
		// (the caller stops when its own context ended).
		return &SendError{Err: fmt.Errorf("sending: %s", scrub(err.Error(), u)), Retry: true}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("the receiver answered %s", resp.Status)
	if a := oneLine(scrub(string(answer), u), 200); a != "" {
		msg += ": " + a
	}
	se := &SendError{Err: errors.New(msg)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se.Retry = true
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout:
		se.Retry = true
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return se
}

// retryAfter reads a Retry-After header in seconds (Slack's and
// Discord's; Discord may give fractions).
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// scrub removes the URL and its path from a message, in case a receiver
// or a transport quotes it.
func scrub(msg, u string) string {
	if u == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, u, "[url]")
	if p, err := url.Parse(u); err == nil {
		if p.Path != "" && p.Path != "/" {
			msg = strings.ReplaceAll(msg, p.Path, "[path]")
		}
		if p.RawQuery != "" {
			msg = strings.ReplaceAll(msg, p.RawQuery, "[query]")
		}
	}
	return msg
}

// oneLine makes s one line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, n)
}

// truncate cuts s to at most n bytes on a rune boundary, ending in "…"
// when it cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// tail keeps the last n bytes of s, from a rune boundary, marking the cut.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…\n"
	start := len(s) - n + len(mark)
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return mark + s[start:]
}
