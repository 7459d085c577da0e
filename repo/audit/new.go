package audit

import (
	"os"
	"os/user"
	"time"

	"strata/redact"
)

// NewRecord starts the record of a command that started at start: its
// name ("backup", "verify drill"), its command line after the program name
// (masked here with package redact, so no caller can store a secret by
// forgetting to), this host and user, and the program's version. The
// caller adds snapshots (AddSnapshots) and, when the command ended,
// its result (SetResult), then appends it (Log.Append). The CLI and a
// daemon running the same workflows record alike through it.
func NewRecord(command string, args []string, start time.Time, program string) *Record {
	rec := &Record{Time: start, Command: command, Args: redact.Args(args), Program: program}
	if rec.Args == nil {
		rec.Args = []string{}
	}
	rec.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		rec.User = u.Username
	}
	return rec
}

// SetResult records how the command ended, now: its duration since Time,
// and ok, or err's message (secrets masked) with exitCode (1 when
// exitCode is 0 though err is not nil). Check and Drill are kept.
func (rec *Record) SetResult(err error, exitCode int) {
	rec.Seconds = time.Since(rec.Time).Seconds()
	rec.Result.OK, rec.Result.Error, rec.Result.ExitCode = err == nil, "", exitCode
	if err == nil {
		rec.Result.ExitCode = 0
		return
	}
	rec.Result.Error = redact.String(err.Error())
	if rec.Result.Error == "" {
		rec.Result.Error = "failed"
	}
	if exitCode == 0 {
		rec.Result.ExitCode = 1
	}
}
