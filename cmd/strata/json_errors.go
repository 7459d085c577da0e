package main

import (
	"encoding/json"
	"io"
	"strings"
)

// exitErrorJSON is how a command given --json reports the error it ends
// with, on stderr, as restic's --json does: one line that scripts can
// parse instead of the "strata: ..." text.
type exitErrorJSON struct {
	MessageType string `json:"message_type"` // "exit_error"
	Code        int    `json:"code"`         // the exit code
	Message     string `json:"message"`
	Advice      string `json:"advice,omitempty"` // what to do, where the message alone does not say
}

// wantsJSON reports whether the command line asks for --json (before any
// "--", after which arguments belong to another program).
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "--json=true" || a == "-json" {
			return true
		}
	}
	return false
}

func printJSONError(w io.Writer, err error) {
	b, _ := json.Marshal(exitErrorJSON{
		MessageType: "exit_error", Code: exitCode(err),
		Message: strings.TrimSpace(err.Error()), Advice: errorAdvice(err),
	})
	_, _ = w.Write(append(b, '\n'))
}
