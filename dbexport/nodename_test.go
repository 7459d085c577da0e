package dbexport

import (
	"testing"

	"strata/repo"
)

// TestEncodeNodeName: plain names keep the node name they always had;
// names with a dot or a percent sign are encoded so that no two tables
// share one.
func TestEncodeNodeName(t *testing.T) {
	for _, c := range []struct{ schema, name, want string }{
		{"public", "customers", "public.customers"},
		{"", "customers", "customers"},
		{"a.b", "c", "a%2Eb.c"},
		{"a", "b.c", "a.b%2Ec"},
		{"a", "b%2Ec", "a.b%252Ec"},
		{"a", "50%", "a.50%25"},
		{"", "x.y", "x%2Ey"},
		{"", "a/b", "a%2Fb"},
		{"public", "a/b", "public.a%2Fb"},
		{"a/b", "c", "a%2Fb.c"},
		{"", "a%2Fb", "a%252Fb"},
		{"", ".", "%2E"},
		{"", "..", "%2E%2E"},
		{"", "", "%"},
		{"s", "", "s.%"},
		{"", "%", "%25"},
		{"", "a\x00b", "a%00b"},
		{"", "line\nbreak", "line\nbreak"},
		{"", "tab\tü 表", "tab\tü 表"},
		{"", " ", " "},
	} {
		if got := EncodeNodeName(c.schema, c.name); got != c.want {
			t.Errorf("EncodeNodeName(%q, %q) = %q, want %q", c.schema, c.name, got, c.want)
		}
	}
	seen := map[string]string{}
	for _, p := range [][2]string{{"a.b", "c"}, {"a", "b.c"}, {"a", "b%2Ec"}, {"a%2Eb", "c"}, {"a.b.c", ""}, {"", "a.b.c"},
		{"", "a/b"}, {"", "a%2Fb"}, {"", ""}, {"", "%"}, {"", "."}, {"", "%2E"}, {"a/b", ""}, {"a", "/b"}} {
		n := EncodeNodeName(p[0], p[1])
		if o, ok := seen[n]; ok {
			t.Errorf("%q and %q both encode to %s", o, p, n)
		}
		seen[n] = p[0] + "|" + p[1]
	}
	// A snapshot written before node names were recorded names its nodes
	// by the qualified name.
	old := &Table{Schema: "a", Name: "b.c"}
	if old.NodeName() != "a.b.c" {
		t.Errorf("NodeName of a table without node: %s", old.NodeName())
	}
}

// nodeNameSamples are table names that once made snapshots unreadable, or
// that an encoding could confuse with others.
var nodeNameSamples = [][2]string{
	{"public", "customers"}, {"", "customers"}, {"", "a/b"}, {"public", "a/b"},
	{"a/b", "c/d"}, {"", "."}, {"", ".."}, {"public", "."}, {"public", ".."},
	{"", ""}, {"s", ""}, {"", "%"}, {"", "%2F"}, {"", "a%2Fb"}, {"", "a%2Eb"},
	{"", "line\nbreak"}, {"", "ü/ß.表"}, {"", "a\x00b"}, {"", " "}, {"", "/"},
	{"a.b", "c"}, {"a", "b.c"}, {"", "schema.json"}, {"", "%%"}, {"", "%2"},
}

// TestNodeNameRoundTrip: every table's node name is a valid node name
// (repo.CheckNodeName), and decodes back to the table's schema and name.
func TestNodeNameRoundTrip(t *testing.T) {
	for _, p := range nodeNameSamples {
		checkNodeNameRoundTrip(t, p[0], p[1])
	}
}

func checkNodeNameRoundTrip(t *testing.T, schema, name string) {
	t.Helper()
	n := EncodeNodeName(schema, name)
	if err := repo.CheckNodeName(n); err != nil {
		t.Fatalf("EncodeNodeName(%q, %q) = %q: %v", schema, name, n, err)
	}
	s, nm, ok := DecodeNodeName(n)
	if !ok || s != schema || nm != name {
		t.Fatalf("DecodeNodeName(%q) = %q, %q, %v; want %q, %q", n, s, nm, ok, schema, name)
	}
}

// FuzzNodeName: for any schema and name, EncodeNodeName is a valid node
// name that decodes to them; DecodeNodeName accepts only what
// EncodeNodeName writes.
func FuzzNodeName(f *testing.F) {
	for _, p := range nodeNameSamples {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, schema, name string) {
		checkNodeNameRoundTrip(t, schema, name)
		// name taken as a node name: decoded only if canonical.
		if s, nm, ok := DecodeNodeName(name); ok && EncodeNodeName(s, nm) != name {
			t.Fatalf("DecodeNodeName(%q) = %q, %q, which encode to %q", name, s, nm, EncodeNodeName(s, nm))
		}
	})
}
