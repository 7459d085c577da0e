package main

import (
	"io"
	"os"

	"golang.org/x/term"

	"strata/repo/crypto"
)

// env is the process's outside world, replaceable in tests.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stderrTTY says whether stderr is a terminal (progress bars);
	// stdoutTTY whether stdout is one (colour).
	stderrTTY, stdoutTTY bool
	// readPassword prompts on the terminal; nil when there is none.
	readPassword func(prompt string) (string, error)
	// kdf is the Argon2id cost for new key files; zero means the default.
	// Only tests set it, to make key files cheap.
	kdf crypto.KDFParams
	// parsed, when set, is called as a command's action starts, once its
	// arguments are parsed. Only tests set it: urfave/cli writes
	// package-level state (its help flag and help command) while it
	// parses, so tests running commands side by side in one process
	// parse one at a time and let the actions run together.
	parsed func()
	// checkTrailRead, when set, is called by check once it has read the
	// audit trail, before it reads the packs and snapshots
	// (verify.CheckOptions.TrailRead). Only tests set it, to end a
	// command there.
	checkTrailRead func()
}

func newEnv() *env {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	e.stderrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	e.stdoutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		if term.IsTerminal(int(tty.Fd())) {
			e.readPassword = func(prompt string) (string, error) {
				_, _ = io.WriteString(tty, prompt)
				b, err := term.ReadPassword(int(tty.Fd()))
				_, _ = io.WriteString(tty, "\n")
				return string(b), err
			}
		} else {
			tty.Close()
		}
	}
	return e
}
