package main

import (
	"strings"
	"testing"
)

func TestInterspersed(t *testing.T) {
	app := newApp(&globals{env: &env{}})
	tests := []struct{ in, want string }{
		{"strata restore latest --target /t", "strata restore --target /t -- latest"},
		{"strata --repo /r restore latest -t /t --include a --include b", "strata --repo /r restore -t /t --include a --include b -- latest"},
		{"strata backup --stdin --tag x", "strata backup --stdin --tag x"},
		{"strata backup /data --tag x --force", "strata backup --tag x --force -- /data"},
		{"strata key add --new-password-file f", "strata key add --new-password-file f"},
		{"strata dump latest -- -weird", "strata dump -- latest -weird"},
		{"strata check --read-data-subset=1/5", "strata check --read-data-subset=1/5"},
		{"strata nope a --b", "strata nope a --b"},
		{"strata backup -q --stdin", "strata -q backup --stdin"},
		{"strata snapshots --repo /r --json", "strata --repo /r snapshots --json"},
		{"strata --json -r /r key list x", "strata -r /r key list --json -- x"},
		{"strata --json unlock", "strata --json unlock"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := strings.Join(interspersed(app, strings.Fields(tt.in)), " ")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
