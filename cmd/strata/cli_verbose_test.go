package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestVerbose: -v tells the steps, -v -v every file too; neither without
// -v or with --quiet.
func TestVerbose(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.csv": "1\n", "sub/b.txt": "b"})
	a, b := filepath.Join(src, "a.csv"), filepath.Join(src, "sub", "b.txt")

	_, errOut := c.code(exitOK, "backup", "-v", "-v", src)
	for _, want := range []string{"opened repository", "shared lock taken for backup", "loaded the index", "new       " + a, "new       " + b} {
		if !strings.Contains(errOut, want) {
			t.Errorf("backup -v -v: stderr lacks %q:\n%s", want, errOut)
		}
	}
	writeTree(t, src, map[string]string{"a.csv": "changed\n"})
	_, errOut = c.code(exitOK, "backup", "-v", "-v", src)
	for _, want := range []string{"parent snapshot", "modified  " + a, "unchanged " + b} {
		if !strings.Contains(errOut, want) {
			t.Errorf("second backup -v -v: stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, errOut = c.code(exitOK, "backup", "-v", src)
	if !strings.Contains(errOut, "opened repository") || strings.Contains(errOut, b) {
		t.Errorf("backup -v: want the steps, not the files:\n%s", errOut)
	}
	_, errOut = c.code(exitOK, "restore", "latest", "-v", "-v", "--target", t.TempDir())
	if !strings.Contains(errOut, "restored "+a) || !strings.Contains(errOut, "restored "+b) {
		t.Errorf("restore -v -v:\n%s", errOut)
	}
	for _, args := range [][]string{{"backup", src}, {"-q", "backup", "-v", "-v", src}} {
		if _, errOut := c.code(exitOK, args...); strings.Contains(errOut, "opened repository") || strings.Contains(errOut, a) {
			t.Errorf("%v tells too much:\n%s", args, errOut)
		}
	}
}

func TestVerboseForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"strata -vv backup x", "strata -v -v backup x"},
		{"strata backup --verbose=2 x", "strata backup -v -v x"},
		{"strata backup --verbose=0 x", "strata backup x"},
		{"strata -v backup x", "strata -v backup x"},
		{"strata guard -- cmd -vv --verbose=3", "strata guard -- cmd -vv --verbose=3"},
		{"strata backup -vx x", "strata backup -vx x"},
	}
	for _, tt := range tests {
		if got := strings.Join(verboseArgs(strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("verboseArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a": "a"})
	for _, form := range []string{"-vv", "--verbose=2"} {
		if _, errOut := c.code(exitOK, "backup", form, src); !strings.Contains(errOut, filepath.Join(src, "a")) {
			t.Errorf("backup %s does not list the file:\n%s", form, errOut)
		}
	}
}
