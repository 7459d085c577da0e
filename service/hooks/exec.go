package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"strata/internal/procgroup"
)

// command runs h.Command with sh -c in its own process group
// (internal/procgroup): a timeout or the daemon's stop ends the commands
// it started as well (SIGTERM, then SIGKILL), the group dies with the
// daemon even when that is killed with SIGKILL, and what the hook leaves
// running when it exits (`sleep 1000 &`) is ended then; a process that
// left the group and holds the hook's output is named in log, not waited
// for.
func (r *Runner) command(ctx context.Context, h Hook, env Env, log io.Writer) error {
	cmd := procgroup.Shell(ctx, h.Command, StopGrace)
	cmd.Env = r.environ(env)
	if err := procgroup.Run(cmd, log, StopGrace); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// maxResponse is how much of a hook's HTTP response goes to the log.
const maxResponse = 1 << 10

// request makes h's HTTP request, with ${STRATA_*} in its URL (escaped),
// headers and body replaced by env's values.
func (r *Runner) request(ctx context.Context, w When, h Hook, env Env, log io.Writer) error {
	vars := env.vars()
	expand := func(s string, escape bool) string {
		return os.Expand(s, func(name string) string {
			v, ok := vars[name]
			if !ok {
				return "${" + name + "}"
			}
			if escape {
				return url.QueryEscape(v)
			}
			return v
		})
	}
	method := h.method()
	var body io.Reader
	switch {
	case h.Body != "":
		body = strings.NewReader(expand(h.Body, false))
	case method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		b, err := json.Marshal(struct {
			Hook When `json:"hook"`
			Env
		}{w, env.masked()})
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, expand(h.URL, true), body)
	if err != nil {
		return err
	}
	for k, v := range h.Header {
		req.Header.Set(k, expand(v, false))
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client().Do(req)
	if err != nil {
		// url.Error quotes the URL, which may hold a token: say only what
		// failed.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	first, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	fmt.Fprintf(log, "%s\n", resp.Status)
	if len(first) > 0 {
		fmt.Fprintf(log, "%s\n", strings.TrimRight(string(first), "\n"))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	return nil
}

func (h Hook) method() string {
	if h.Method == "" {
		return http.MethodPost
	}
	return h.Method
}
