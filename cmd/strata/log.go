package main

import (
	"context"
	"fmt"
	"log/slog"

	"strata/repo"
	"strata/workflow"
)

// logger is the workflows' logger: their records printed on stderr as
// the CLI has always printed them (package workflow, "Logging").
func (g *globals) logger() *slog.Logger { return slog.New(cliHandler{g: g}) }

// cliHandler prints a workflow's records by level: errors as
// "warning: ..." even with --quiet; notices (Warn) as "notice: ...";
// what an operator should see (Info) as it is; steps (Debug) with -v and
// each file (workflow.LevelFile) with -vv; all but errors unless --quiet.
// Attributes and groups are not printed: the message is the text.
// A prefix, when set, starts every message (a copy's source repository).
type cliHandler struct {
	g      *globals
	prefix string
}

func (h cliHandler) Enabled(_ context.Context, l slog.Level) bool {
	switch {
	case l >= slog.LevelError:
		return true
	case h.g.quiet:
		return false
	case l >= slog.LevelInfo:
		return true
	case l >= slog.LevelDebug:
		return h.g.verbose >= 1
	default:
		return h.g.verbose >= 2
	}
}

func (h cliHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.Enabled(ctx, r.Level) {
		return nil
	}
	prefix := ""
	switch {
	case r.Level >= slog.LevelError:
		prefix = "warning: "
	case r.Level >= slog.LevelWarn:
		prefix = "notice: "
	}
	_, err := fmt.Fprintf(h.g.env.stderr, "%s%s%s\n", prefix, h.prefix, r.Message)
	return err
}

func (h cliHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cliHandler) WithGroup(string) slog.Handler      { return h }

// lockOptions are the global flags' say in how a workflow takes its lock.
func (g *globals) lockOptions() workflow.LockOptions {
	return workflow.LockOptions{RetryLock: g.retryLock, NoLock: g.noLock, OnLockLost: g.stop, Observe: g.observeRepository}
}

// notifyHandler hands each record's message to a notice function (a
// restore's, which may count what it is told).
type notifyHandler struct{ notify func(string) }

func (h notifyHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h notifyHandler) Handle(_ context.Context, r slog.Record) error {
	h.notify(r.Message)
	return nil
}
func (h notifyHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h notifyHandler) WithGroup(string) slog.Handler      { return h }

// openFor opens the repository for a workflow that takes the lock req
// describes, once the global flags allow it: a workflow that writes is
// refused --no-lock before the password is asked, and is recorded in the
// audit trail.
func (g *globals) openFor(ctx context.Context, req workflow.LockRequest) (*repo.Repository, error) {
	req.LockOptions = g.lockOptions()
	if req.Writes() {
		g.audit.writes = true
	}
	if err := req.CheckNoLock(); err != nil {
		return nil, err
	}
	return g.openRepo(ctx)
}
