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
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		// The first signal stops the command cleanly (it indexes what it
		// uploaded and removes its lock); a second one ends strata at
		// once.
		signal.Stop(sigs)
		cancel(&interruptedError{sig: s})
	}()
	stopProfiles := startProfiles()
	code := run(ctx, os.Args, newEnv())
	cancel(nil)
	stopProfiles()
	os.Exit(code)
}
