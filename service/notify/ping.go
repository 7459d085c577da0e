package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// pingBodyMax is how much of the log a ping carries: healthchecks.io
// keeps the first 100 kB of a ping's body, so the tail is cut to fit.
const pingBodyMax = 100_000

// pinger pings a healthchecks-style monitor: POST URL/start when a run
// begins, URL when it succeeds, URL/fail when it fails, each with the
// run's log tail as body (healthchecks.io's "Pinging API").
type pinger struct {
	base
	client               *http.Client
	url                  Secret
	start, success, fail Secret
}

func (p *pinger) Send(ctx context.Context, e Event) error {
	var (
		explicit Secret
		suffix   string
	)
	switch {
	case e.Kind == JobStarted:
		explicit, suffix = p.start, "/start"
	case e.Kind.failure():
		explicit, suffix = p.fail, "/fail"
	case e.Kind.success(), e.Kind == Test:
		explicit, suffix = p.success, ""
	default:
		return nil
	}
	var u string
	if !explicit.IsZero() {
		v, err := explicit.Resolve(p.getenv)
		if err != nil {
			return &SendError{Err: fmt.Errorf("ping url: %w", err)}
		}
		u = v
	} else {
		// healthchecks.io pairs a start with its end by the run ID.
		if p.url.IsZero() {
			return nil // a start with no start URL: nothing to ping
		}
		v, err := p.url.Resolve(p.getenv)
		if err != nil {
			return &SendError{Err: fmt.Errorf("url: %w", err)}
		}
		u, err = pingURL(v, suffix)
		if err != nil {
			return &SendError{Err: err}
		}
		if isUUID(e.RunID) {
			u = withQuery(u, "rid", e.RunID)
		}
	}
	body := e.Log
	if body == "" {
		body = e.message()
	}
	return post(ctx, p.client, u, "text/plain; charset=utf-8", []byte(tail(body, pingBodyMax)), nil)
}

// pingURL appends suffix to the path of a ping URL, keeping its query.
func pingURL(base, suffix string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("the ping url is not a valid URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + suffix
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") + suffix
	}
	return u.String(), nil
}

func withQuery(s, k, v string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// isUUID says whether s has a UUID's form (8-4-4-4-12 hex digits), the
// only run IDs healthchecks.io accepts.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
