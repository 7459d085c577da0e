package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The demo runs to its end with a small database and shows what README
// says it shows: the diff of the last hour, per table and row by row,
// then the history of one customer.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds strata and runs the whole demo; make test-long runs it")
	}
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out bytes.Buffer
	if err := run(&out, bin, 2000, 2, 0.01, filepath.Join(t.TempDir(), "demo")); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\$ strata diff latest~1 latest\nsnapshot \w+ \(2025-06-02 01:00:00 UTC\) -> \w+ \(2025-06-02 02:00:00 UTC\)\n`),
		regexp.MustCompile(`(?m)^customers +\d+ +\d+ +\d+ +\d+ +[1-9]\d* +[1-9]\d*$`),
		regexp.MustCompile(`(?m)^\$ strata diff latest~1 latest --format text --tables customers \| head -14\ntable customers\nM id=\d+\n    \w+: .* -> .*\n`),
		regexp.MustCompile(`(?m)^\$ strata history customers --key \d+\n`),
	} {
		if !want.MatchString(text) {
			t.Errorf("the demo's output lacks %s", want)
		}
	}
	if i, j := strings.Index(text, "$ strata diff"), strings.Index(text, "$ strata history"); i < 0 || j < i {
		t.Errorf("the diff is not shown before the history")
	}
	if t.Failed() {
		t.Log(text)
	}
}
