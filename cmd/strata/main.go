// Command strata backs up files, streams and database tables into an
// encrypted, deduplicating repository. See README.md and docs/design.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A closed pipe (`strata dump ... | head`) becomes a write error, so
	// strata still releases its lock before it exits.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, newEnv())
	stop()
	os.Exit(code)
}
