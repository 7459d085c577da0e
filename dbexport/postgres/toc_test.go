package postgres

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestSplitRendering(t *testing.T) {
	text, err := os.ReadFile("testdata/rendering_pre.sql")
	if err != nil {
		t.Fatal(err)
	}
	preamble, entries, err := splitRendering(text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(preamble, `\restrict`) || !strings.Contains(preamble, "SET row_security = off;") || strings.Contains(preamble, "--") {
		t.Errorf("preamble:\n%s", preamble)
	}
	if len(entries) != 14 {
		t.Fatalf("%d entries, want 14", len(entries))
	}
	e := entries[0]
	if e.id != 2 || e.kind != "EXTENSION" || e.name != "citext" || e.schema != "-" || e.owner != "-" || !strings.HasPrefix(e.sql, "CREATE EXTENSION IF NOT EXISTS citext") {
		t.Errorf("first entry: %+v", e)
	}
	last := entries[len(entries)-1]
	if last.kind != "ACL" || last.name != "TABLE t" || last.sql != "GRANT SELECT ON TABLE public.t TO PUBLIC;" {
		t.Errorf("last entry: %+v", last)
	}
	for _, e := range entries {
		if strings.Contains(e.sql, `\unrestrict`) || strings.Contains(e.sql, "dump complete") {
			t.Errorf("entry %d holds the end of the output: %q", e.id, e.sql)
		}
	}
	var part tocEntry
	for _, e := range entries {
		if e.name == "parts_1" && e.kind == "TABLE" {
			part = e
		}
	}
	if !reflect.DeepEqual(part.deps, []int{219}) {
		t.Errorf("the partition's dependencies: %v", part.deps)
	}
}

func TestSplitRenderingRefuses(t *testing.T) {
	good, err := os.ReadFile("testdata/rendering_pre.sql")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"no end":           strings.Replace(string(good), "dump complete", "dump", 1),
		"meta-command":     strings.Replace(string(good), "SET xmloption = content;", `\! rm -rf /`, 1),
		"header unended":   "SET a = b;\n--\n-- TOC entry 5 (class 1 OID 2)\n-- Name: x; Type: TABLE; Schema: public; Owner: me" + endMarker,
		"no number":        "SET a = b;\n--\n-- TOC entry x (class 1 OID 2)\n-- Name: x; Type: TABLE; Schema: public; Owner: me\n--\n\nSELECT 1;\n" + endMarker,
		"no name line":     "SET a = b;\n--\n-- TOC entry 5 (class 1 OID 2)\n--\n\nSELECT 1;\n" + endMarker,
		"bad dependency":   "SET a = b;\n--\n-- TOC entry 5 (class 1 OID 2)\n-- Dependencies: 3 x\n-- Name: x; Type: TABLE; Schema: public; Owner: me\n--\n\nSELECT 1;\n" + endMarker,
		"name line broken": "SET a = b;\n--\n-- TOC entry 5 (class 1 OID 2)\n-- Name: x; Owner: me\n--\n\nSELECT 1;\n" + endMarker,
	} {
		if _, _, err := splitRendering([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"GRANT SELECT ON TABLE a TO b;\nGRANT INSERT ON TABLE a TO c;", []string{"GRANT SELECT ON TABLE a TO b;", "GRANT INSERT ON TABLE a TO c;"}},
		{`GRANT SELECT ON TABLE "x;y" TO "a""b;";` + "\n" + `REVOKE ALL ON TABLE 'q;' FROM b;`, []string{`GRANT SELECT ON TABLE "x;y" TO "a""b;";`, `REVOKE ALL ON TABLE 'q;' FROM b;`}},
		{"GRANT x TO y", []string{"GRANT x TO y"}},
		{";;", nil},
	} {
		if got := splitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSplitRendering: pg_restore's output comes from an archive read
// from the repository; no input may panic the splitter, and every entry
// it returns has a number and a kind.
func FuzzSplitRendering(f *testing.F) {
	good, err := os.ReadFile("testdata/rendering_pre.sql")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(endMarker))
	f.Add([]byte("--\n-- TOC entry 5 (class 1 OID 2)\n-- Dependencies: 3 4\n-- Name: a; b; Type: TABLE; Schema: s; Owner: o\n--\n\nSELECT 1;\n" + endMarker))
	f.Fuzz(func(t *testing.T, text []byte) {
		_, entries, err := splitRendering(text)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.id <= 0 || e.kind == "" {
				t.Fatalf("entry without number or kind: %+v", e)
			}
		}
		if _, e, err := splitSingle(text); err == nil && (e.id <= 0 || e.kind == "") {
			t.Fatalf("single entry without number or kind: %+v", e)
		}
		splitStatements(string(text))
	})
}
