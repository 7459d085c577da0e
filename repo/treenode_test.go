package repo

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"strata/pack"
)

// sampleTree is a table snapshot's root tree as a backup writes it: a
// schema file and table nodes with definitions, pages and a change log.
func sampleTree(t testing.TB) *Tree {
	t.Helper()
	id := func(b byte) *pack.ID { var p pack.ID; p[0] = b; return &p }
	table := func(name string, b byte) Node {
		return Node{Name: name, Kind: NodeTable, Size: 1234, Pages: id(b), Log: id(b + 1), Meta: map[string]string{
			TableMetaRows:  "42",
			TableMetaTable: `{"name":"` + name + `","columns":[{"name":"id","kind":"int"},{"name":"note \"q\"","kind":"text"}],"primary_key":["id"]}`,
			"engine":       "sqlite",
		}}
	}
	return &Tree{Nodes: []Node{
		table("customer_services", 1),
		table("customers", 3),
		{Name: "empty", Kind: NodeTable, Meta: map[string]string{TableMetaRows: "0"}},
		{Name: "schema.json", Kind: NodeFile, Size: 10, Content: []pack.ID{*id(9)}},
		{Name: "sub", Kind: NodeDir, Subtree: id(10)},
		{Name: "\u00e9t\u00e9", Kind: NodeFile},
	}}
}

// TestFindTreeNodeCanonical: on a tree as EncodeTree writes it each node
// is found by the scan alone (no whole decode) and equals DecodeTree's,
// and a name between or beyond the nodes' is none.
func TestFindTreeNodeCanonical(t *testing.T) {
	b, err := EncodeTree(sampleTree(t))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := DecodeTree(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"customer_services", "customers", "empty", "schema.json", "sub", "\u00e9t\u00e9", "a", "customers2", "zzz", ""} {
		t.Run(name, func(t *testing.T) {
			n, ok := findNodeCanonical(b, name)
			if !ok {
				t.Fatal("the scan gave up on a canonical tree")
			}
			if want := whole.Find(name); !reflect.DeepEqual(n, want) {
				t.Fatalf("found %+v, want %+v", n, want)
			}
			got, err := FindTreeNode(b, name)
			if err != nil || !reflect.DeepEqual(got, whole.Find(name)) {
				t.Fatalf("FindTreeNode: %+v, %v", got, err)
			}
		})
	}
}

// TestFindTreeNodeSkipsOtherNodes: a node the scan does not look for is
// not decoded, so a field no reader knows in another node does not stop
// it; DecodeTree, which decodes all, refuses the tree.
func TestFindTreeNodeSkipsOtherNodes(t *testing.T) {
	b, err := EncodeTree(sampleTree(t))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`{"name":"customer_services",`), []byte(`{"name":"customer_services","unknown":[1,{"x":"]"}],`), 1)
	if _, err := DecodeTree(b); err == nil {
		t.Fatal("DecodeTree accepted an unknown field")
	}
	n, err := FindTreeNode(b, "customers")
	if err != nil || n == nil || n.Name != "customers" || *n.Pages != *sampleTree(t).Nodes[1].Pages {
		t.Fatalf("customers: %+v, %v", n, err)
	}
	// The node itself is decoded as DecodeTree does: refused.
	if _, err := FindTreeNode(b, "customer_services"); err == nil {
		t.Fatal("a node with an unknown field was accepted")
	}
}

// TestFindTreeNodeOtherForms: blobs not in the canonical form are decoded
// whole, with DecodeTree's answer.
func TestFindTreeNodeOtherForms(t *testing.T) {
	for _, tc := range []struct {
		name, blob, find string
		want             string // the found node's kind; "" none
		err              bool
	}{
		{"spaces", " { \"nodes\" : [ {\"name\":\"a\", \"kind\":\"file\"} ] }\n", "a", NodeFile, false},
		{"escaped name", `{"nodes":[{"name":"\u0061","kind":"file"}]}`, "a", NodeFile, false},
		{"name not first", `{"nodes":[{"kind":"file","name":"a"}]}`, "a", NodeFile, false},
		{"name twice", `{"nodes":[{"name":"b","kind":"file","NAME":"a"}]}`, "a", NodeFile, false},
		{"nodes twice", `{"nodes":[{"name":"a","kind":"file"}],"nodes":[]}`, "a", "", false},
		{"trailing bytes", `{"nodes":[{"name":"a","kind":"file"}]}x`, "a", NodeFile, false},
		{"null", `{"nodes":null}`, "a", "", false},
		// Refused by DecodeTree; the scan stops at b, after a.
		{"unsorted", `{"nodes":[{"name":"b","kind":"file"},{"name":"a","kind":"file"}]}`, "a", "", false},
		{"not json", `{"nodes":[{"name":"a"`, "a", "", true},
		{"bad kind", `{"nodes":[{"name":"a","kind":"socket"}]}`, "a", "", true},
		{"invalid utf-8", "{\"nodes\":[{\"name\":\"\xff\",\"kind\":\"file\"}]}", "\ufffd", NodeFile, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := FindTreeNode([]byte(tc.blob), tc.find)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			kind := ""
			if n != nil {
				kind = n.Kind
			}
			if kind != tc.want {
				t.Fatalf("found %+v, want kind %q", n, tc.want)
			}
		})
	}
}

// FuzzFindTreeNode: on any blob DecodeTree accepts, FindTreeNode finds
// what DecodeTree's Find finds, for the fuzzed name and each node's; on
// others it never panics, and a node it returns is named name and valid.
func FuzzFindTreeNode(f *testing.F) {
	b, err := EncodeTree(sampleTree(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "customers")
	f.Add(b, "zzz")
	f.Add([]byte(`{"nodes":[]}`), "a")
	f.Add([]byte(`{"nodes":[{"name":"a","kind":"file","size":3,"content":["0000000000000000000000000000000000000000000000000000000000000000"]}]}`), "a")
	f.Add([]byte(`{"nodes":[{"name":"b","kind":"file","Name":"a"}]}`), "a")
	f.Add([]byte(`{"nodes":[{"name":"a","kind":"file"}],"Nodes":[]}`), "a")
	f.Add([]byte(`{"nodes":[{"name":"a","kind":"dir","subtree":"00"}]}`), "a")
	f.Add([]byte("{\"nodes\":[{\"name\":\"\xc3\",\"kind\":\"file\"}]}"), "\xc3")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		n, err := FindTreeNode(data, name)
		if err == nil && n != nil && (n.Name != name || n.validate() != nil) {
			t.Fatalf("found an invalid node or another's: %+v", n)
		}
		tree, derr := DecodeTree(data)
		if derr != nil {
			return
		}
		names := []string{name}
		for _, n := range tree.Nodes {
			names = append(names, n.Name, n.Name+"\x00", strings.ToUpper(n.Name))
		}
		for _, name := range names {
			got, err := FindTreeNode(data, name)
			if err != nil {
				t.Fatalf("%q: %v on a tree DecodeTree accepts", name, err)
			}
			if want := tree.Find(name); !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: found %+v, DecodeTree's %+v", name, got, want)
			}
		}
	})
}
