package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONErrors: with --json, the error a command ends with is one JSON
// line on stderr carrying the exit code; without, the usual text.
func TestJSONErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"snapshots", "--json"}, exitNoRepository, "no repository"},
		{[]string{"stats", "ffff", "--json"}, exitError, "snapshot not found"},
		{[]string{"backup", "--json"}, exitError, "nothing to back up"},
	}
	for i, tt := range tests {
		if i == 1 {
			c.ok("init")
		}
		out, errOut := c.code(tt.code, tt.args...)
		var e struct {
			MessageType string `json:"message_type"`
			Code        int    `json:"code"`
			Message     string `json:"message"`
		}
		if err := json.Unmarshal([]byte(errOut), &e); err != nil || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: stderr %q is not one JSON line: %v", tt.args, errOut, err)
			continue
		}
		if e.MessageType != "exit_error" || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) || out != "" {
			t.Errorf("%v: %+v (stdout %q), want exit_error %d with %q", tt.args, e, out, tt.code, tt.msg)
		}
	}
	if _, errOut := c.code(exitError, "stats", "ffff"); !strings.HasPrefix(errOut, "strata: ") {
		t.Errorf("without --json: %q", errOut)
	}
}
