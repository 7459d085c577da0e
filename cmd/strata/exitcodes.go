package main

import (
	"errors"
	"fmt"

	"strata/repo"
)

// Exit codes, the only place they are decided. Each command's help lists
// the ones it uses.
const (
	exitOK           = 0
	exitError        = 1
	exitCheckFailed  = 3  // check or a drill found problems
	exitNoRepository = 10 // no repository at --repo
	exitLocked       = 11 // another process holds a conflicting lock
	exitWrongPass    = 12 // wrong password or no key found
)

// errCheckFailed marks a command that ran but found problems.
var errCheckFailed = errors.New("problems found")

const exitCodesHelp = `Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`

const checkExitCodesHelp = `Exit codes: 0 ok, 1 error, 3 problems found, 10 no repository, 11 locked, 12 wrong password.`

// exitStatus carries a child's exit code through (guard).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var status *exitStatus
	switch {
	case errors.As(err, &status):
		return status.code
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
