package workflow

import (
	"log/slog"
)

// LevelFile is the level of records about each file or table a workflow
// handles, below slog.LevelDebug.
const LevelFile = slog.LevelDebug - 4

// logger returns l, or a logger that discards everything when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
