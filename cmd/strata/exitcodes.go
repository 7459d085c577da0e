package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"strata/repo"
)

// Exit codes, the only place they are decided. Each command's help lists
// the ones it uses.
const (
	exitOK          = 0
	exitError       = 1
	exitCheckFailed = 3 // check or a drill found problems
	// health exits as a Nagios plugin: 0 OK, 1 warning, 2 critical, 3
	// unknown (it could not judge).
	exitHealthUnknown = 3
	exitNoRepository  = 10 // no repository at --repo
	exitLocked        = 11 // another process holds a conflicting lock
	exitWrongPass     = 12 // wrong password or no key found
	// 128 + the signal's number: 130 after Ctrl-C (SIGINT), 143 after
	// SIGTERM, as shells report a process a signal ended.
	exitInterrupted = 130
)

// errCheckFailed marks a command that ran but found problems.
var errCheckFailed = errors.New("problems found")

const exitCodesHelp = `Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`

const checkExitCodesHelp = `Exit codes: 0 ok, 1 error, 3 problems found, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`

// interruptedError is the cause of the command context's cancellation
// when SIGINT or SIGTERM arrived.
type interruptedError struct{ sig os.Signal }

func (e *interruptedError) Error() string { return "interrupted by " + e.sig.String() }

// interrupted returns the signal's exit code (128 + its number) when a
// signal cancelled ctx, and 0 when none did.
func interrupted(ctx context.Context) int {
	var intr *interruptedError
	if !errors.As(context.Cause(ctx), &intr) {
		return 0
	}
	if s, ok := intr.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitInterrupted
}

// exitStatus carries a child's exit code through (guard).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var status *exitStatus
	switch {
	case errors.As(err, &status):
		return status.code
	case errors.As(err, new(*healthUnknown)):
		return exitHealthUnknown
	case err == nil:
		return exitOK
	case errors.Is(err, errCheckFailed):
		return exitCheckFailed
	case errors.Is(err, repo.ErrNoRepository):
		return exitNoRepository
	case errors.Is(err, repo.ErrLocked):
		return exitLocked
	case errors.Is(err, repo.ErrWrongPassword):
		return exitWrongPass
	default:
		return exitError
	}
}
