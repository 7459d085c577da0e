package filter_test

import (
	"testing"

	"strata/filter"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		fold    bool
		path    string
		want    bool
	}{
		{"*.csv", false, "/var/exports/a.csv", true},
		{"*.csv", false, "/a.csv", true},
		{"*.csv", false, "/var/exports/a.txt", false},
		{"*.csv", false, "/var/a.csv/b", false}, // the dir matches; its content is the caller's affair
		{"exports/*.csv", false, "/var/lib/exports/a.csv", true},
		{"exports/*.csv", false, "/var/lib/other/a.csv", false},
		{"/var/*.csv", false, "/var/a.csv", true},
		{"/var/*.csv", false, "/x/var/a.csv", false},
		{"/var", false, "/var", true},
		{"/var", false, "/var/a", false},
		{"var/", false, "/srv/var", true},
		{"/", false, "/anything/at/all", true},
		{"/var/**/*.csv", false, "/var/a.csv", true},
		{"/var/**/*.csv", false, "/var/a/b/c.csv", true},
		{"/var/**/*.csv", false, "/srv/a.csv", false},
		{"**", false, "/a/b", true},
		{"*.CSV", true, "/x/a.csv", true},
		{"*.CSV", false, "/x/a.csv", false},
		{"a?c", false, "/abc", true},
		{"a*", false, "/b/ab/c", false},
	}
	for _, tt := range tests {
		p, err := filter.Parse(tt.pattern, tt.fold)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("%q (fold %v) Match(%q) = %v, want %v", tt.pattern, tt.fold, tt.path, got, tt.want)
		}
	}
}

func TestChildMayMatch(t *testing.T) {
	tests := []struct {
		pattern, dir string
		want         bool
	}{
		{"/var/lib/*.csv", "/var", true},
		{"/var/lib/*.csv", "/var/lib", true},
		{"/var/lib/*.csv", "/srv", false},
		{"/var/lib/*.csv", "/var/lib/x", false},
		{"/v*/lib", "/var", true},
		{"/var/**/x", "/var/a/b/c", true},
		{"*.csv", "/any/dir", true},
		{"/", "/any", true},
	}
	for _, tt := range tests {
		p, err := filter.Parse(tt.pattern, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.ChildMayMatch(tt.dir); got != tt.want {
			t.Errorf("%q ChildMayMatch(%q) = %v, want %v", tt.pattern, tt.dir, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, raw := range []string{"", "  ", "/tmp/[", "a/[-]/b"} {
		if _, err := filter.Parse(raw, false); err == nil {
			t.Errorf("Parse(%q) accepted a bad pattern", raw)
		}
	}
}
