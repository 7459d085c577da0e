package dbexport

import "testing"

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
	} {
		if got := EncodeNodeName(c.schema, c.name); got != c.want {
			t.Errorf("EncodeNodeName(%q, %q) = %q, want %q", c.schema, c.name, got, c.want)
		}
	}
	seen := map[string]string{}
	for _, p := range [][2]string{{"a.b", "c"}, {"a", "b.c"}, {"a", "b%2Ec"}, {"a%2Eb", "c"}, {"a.b.c", ""}, {"", "a.b.c"}} {
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
