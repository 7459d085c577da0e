package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"strata/redact"
)

// DefaultTimeout is a hook's timeout when it gives none (as strata.yaml's
// default).
const DefaultTimeout = time.Minute

// StopGrace is how long a command hook, and what it started, has to end
// after SIGTERM (its timeout, or the daemon's stop) before SIGKILL.
const StopGrace = 10 * time.Second

// When says when a hook runs.
type When string

// The times at which hooks run, in the order they run: Before, then the
// job, then Success or Failure, then After.
const (
	Before  When = "before"
	Success When = "success"
	Failure When = "failure"
	After   When = "after"
)

// Hook is one command or one HTTP request.
type Hook struct {
	// Command is a shell command, run with sh -c.
	Command string
	// URL, with Method (default POST), Header and Body, is an HTTP
	// request; a status other than 2xx fails it. Without a Body, a POST,
	// PUT or PATCH sends the run as a JSON object (Env's fields in lower
	// case, and "hook": when it runs).
	URL    string
	Method string
	Header map[string]string
	Body   string
	// Timeout bounds the hook (0: DefaultTimeout).
	Timeout time.Duration
	// ContinueOnError: a failing Before hook does not stop the job (the
	// failure is written to the run's log).
	ContinueOnError bool
}

// String names the hook in logs and errors, secrets masked.
func (h Hook) String() string {
	if h.Command != "" {
		return redact.String(h.Command)
	}
	return h.method() + " " + urlHost(h.URL)
}

// urlHost is u's scheme and host: its path and query may hold a token (a
// healthchecks ping key, a webhook's secret), so logs show "/..." for
// them.
func urlHost(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(an HTTP hook whose URL does not parse)"
	}
	s := p.Scheme + "://" + p.Host
	if p.Path != "" && p.Path != "/" || p.RawQuery != "" {
		s += "/..."
	}
	return s
}

// Set is a job's hooks by when they run.
type Set struct {
	Before, After, Success, Failure []Hook
}

// Of returns the hooks that run at w.
func (s Set) Of(w When) []Hook {
	switch w {
	case Before:
		return s.Before
	case After:
		return s.After
	case Success:
		return s.Success
	case Failure:
		return s.Failure
	}
	return nil
}

// Env is what hooks are told of the job and its run.
type Env struct {
	Job        string `json:"job"`
	Kind       string `json:"kind"`
	Tier       string `json:"tier,omitempty"`
	Source     string `json:"source,omitempty"`
	Repository string `json:"repository"`
	// Snapshot is the ID of the snapshot the run saved, if any.
	Snapshot string `json:"snapshot,omitempty"`
	// Result is the run's result (state.Result) once it ended; Error its
	// error.
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// masked is e with the passwords of Source and Repository, which may be
// URLs, masked.
func (e Env) masked() Env {
	e.Source, e.Repository = redact.URL(e.Source), redact.URL(e.Repository)
	return e
}

// vars returns the STRATA_* variables of e, passwords masked.
func (e Env) vars() map[string]string {
	e = e.masked()
	return map[string]string{
		"STRATA_JOB":        e.Job,
		"STRATA_KIND":       e.Kind,
		"STRATA_TIER":       e.Tier,
		"STRATA_SOURCE":     e.Source,
		"STRATA_REPOSITORY": e.Repository,
		"STRATA_SNAPSHOT":   e.Snapshot,
		"STRATA_RESULT":     e.Result,
		"STRATA_ERROR":      e.Error,
	}
}

// Runner runs hooks.
type Runner struct {
	// Environ is the environment commands inherit (os.Environ() if nil),
	// before the secrets are taken out of it.
	Environ []string
	// Secrets names further variables to take out of Environ: those
	// strata.yaml reads passwords from. Set it before the first Run;
	// SetSecrets changes it later.
	Secrets []string
	// Client makes the HTTP requests (http.DefaultClient if nil).
	Client *http.Client

	mu sync.Mutex // guards Secrets after the first Run
}

// SetSecrets replaces Secrets for the hooks run from now on: the daemon's
// configuration was read again and may name other variables.
func (r *Runner) SetSecrets(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Secrets = names
}

// Run runs hooks one after the other, writing what each does to log.
// At Before it stops at the first failure and returns it; at the other
// times it runs them all and returns their failures joined.
func (r *Runner) Run(ctx context.Context, w When, hooks []Hook, env Env, log io.Writer) error {
	var errs []error
	for i, h := range hooks {
		fmt.Fprintf(log, "hook %s #%d: %s\n", w, i+1, h)
		timeout := h.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		hctx, cancel := context.WithTimeout(ctx, timeout)
		var err error
		if h.Command != "" {
			err = r.command(hctx, h, env, log)
		} else {
			err = r.request(hctx, w, h, env, log)
		}
		if err != nil && hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = fmt.Errorf("timed out after %v: %w", timeout, err)
		}
		cancel()
		if err != nil {
			err = fmt.Errorf("%s hook #%d (%s): %w", w, i+1, h, err)
			fmt.Fprintf(log, "%v\n", err)
			if w == Before {
				if !h.ContinueOnError {
					return err
				}
				fmt.Fprintf(log, "continuing: the hook has continue_on_error\n")
				continue
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// environ is the environment of a command hook: Environ without secrets,
// then env's variables.
func (r *Runner) environ(env Env) []string {
	base := r.Environ
	if base == nil {
		base = os.Environ()
	}
	drop := map[string]bool{"PGPASSWORD": true, "MYSQL_PWD": true}
	r.mu.Lock()
	for _, s := range r.Secrets {
		drop[s] = true
	}
	r.mu.Unlock()
	var out []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if drop[name] || strings.HasPrefix(name, "STRATA_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env.vars() {
		out = append(out, k+"="+v)
	}
	return out
}

func (r *Runner) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return http.DefaultClient
}
