package postgres

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// A rendering is the plain SQL that `pg_restore --verbose --file=-`
// writes for a schema archive: a preamble of SET statements, then per
// entry of the archive's table of contents a comment header and its SQL
// (docs/design.md, "Schema archive"):
//
//	--
//	-- TOC entry 3315 (class 2606 OID 16512)
//	-- Dependencies: 216
//	-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
//	-- Data Pos: 0
//	--
//
//	ALTER TABLE ONLY public.t
//	    ADD CONSTRAINT t_pkey PRIMARY KEY (id);
//
// and last "-- PostgreSQL database dump complete". pg_restore 17.6,
// 16.10, 15.14 and later put psql's \restrict KEY first and \unrestrict
// KEY last; strata runs the SQL itself, not through psql, and drops them.

// tocEntry is one entry of a rendering.
type tocEntry struct {
	id     int
	deps   []int
	name   string // pg_dump's tag: "t", "t t_pkey", "TABLE t"
	kind   string // pg_dump's description: TABLE, INDEX, ACL, ...
	schema string // "-" for none
	owner  string // "" or "-" for none
	sql    string
}

// what names the entry for messages: "CONSTRAINT public.t t_pkey".
func (e *tocEntry) what() string {
	if e.schema == "" || e.schema == "-" {
		return e.kind + " " + e.name
	}
	return e.kind + " " + e.schema + "." + e.name
}

// tocTag returns a name as an entry's header shows it: pg_dump writes
// the newlines and carriage returns of names as spaces.
func tocTag(name string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(name)
}

const (
	entryMarker = "\n--\n-- TOC entry "
	endMarker   = "\n--\n-- PostgreSQL database dump complete\n"
)

// splitRendering splits a rendering into its preamble and its entries.
// It refuses text that does not have the shape above, and a preamble
// that holds a psql meta-command other than \restrict.
func splitRendering(text []byte) (preamble string, entries []tocEntry, err error) {
	s, err := body(text)
	if err != nil {
		return "", nil, err
	}
	parts := strings.Split(s, entryMarker)
	preamble, err = cleanPreamble(parts[0])
	if err != nil {
		return "", nil, err
	}
	for _, p := range parts[1:] {
		e, err := parseEntry(p)
		if err != nil {
			return "", nil, err
		}
		entries = append(entries, e)
	}
	return preamble, entries, nil
}

// body cuts the end off a rendering: the last line and pg_restore
// --verbose's "-- Completed on <time>".
func body(text []byte) (string, error) {
	s := string(text)
	i := strings.LastIndex(s, endMarker)
	if i < 0 {
		return "", fmt.Errorf("pg_restore output lacks its last line (%q)", strings.TrimSpace(endMarker))
	}
	s = s[:i+1]
	trimmed := strings.TrimRight(s, "\n")
	if i := strings.LastIndex(trimmed, "\n-- Completed on "); i >= 0 && !strings.Contains(trimmed[i+1:], "\n") {
		s = trimmed[:i+1]
	}
	return s, nil
}

// splitSingle splits the rendering of one entry: everything after its
// header, which comes first, is its SQL, whatever it looks like.
func splitSingle(text []byte) (preamble string, e tocEntry, err error) {
	s, err := body(text)
	if err != nil {
		return "", e, err
	}
	i := strings.Index(s, entryMarker)
	if i < 0 {
		return "", e, fmt.Errorf("pg_restore output holds no entry")
	}
	if preamble, err = cleanPreamble(s[:i]); err != nil {
		return "", e, err
	}
	e, err = parseEntry(s[i+len(entryMarker):])
	return preamble, e, err
}

// cleanPreamble drops comments, blank lines and \restrict; any other
// psql meta-command is an error.
func cleanPreamble(p string) (string, error) {
	var out []string
	for _, line := range strings.Split(p, "\n") {
		switch {
		case strings.HasPrefix(line, `\restrict `), strings.HasPrefix(line, `\unrestrict `):
		case strings.HasPrefix(line, `\`):
			return "", fmt.Errorf("pg_restore output holds the psql command %q, which strata does not run", line)
		case strings.HasPrefix(line, "--"), strings.TrimSpace(line) == "":
		default:
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n"), nil
}

// parseEntry parses one entry: its header lines up to the line "--",
// then its SQL.
func parseEntry(p string) (tocEntry, error) {
	var e tocEntry
	header, sql, ok := strings.Cut(p, "\n--\n")
	if !ok {
		return e, fmt.Errorf("pg_restore output: a TOC entry header does not end")
	}
	lines := strings.Split(header, "\n")
	// "3315 (class 2606 OID 16512)"
	idText, _, _ := strings.Cut(lines[0], " ")
	id, err := strconv.Atoi(idText)
	if err != nil || id <= 0 {
		return e, fmt.Errorf("pg_restore output: TOC entry %q has no number", lines[0])
	}
	e.id = id
	for _, line := range lines[1:] {
		switch {
		case strings.HasPrefix(line, "-- Dependencies:"):
			for _, f := range strings.Fields(strings.TrimPrefix(line, "-- Dependencies:")) {
				d, err := strconv.Atoi(f)
				if err != nil {
					return e, fmt.Errorf("pg_restore output: TOC entry %d: dependency %q", id, f)
				}
				e.deps = append(e.deps, d)
			}
		case strings.HasPrefix(line, "-- Name: "):
			rest := strings.TrimPrefix(line, "-- Name: ")
			// Parsed from the right: a name may hold "; ", a type never.
			i := strings.LastIndex(rest, "; Owner: ")
			j := strings.LastIndex(rest[:max(i, 0)], "; Schema: ")
			k := strings.LastIndex(rest[:max(j, 0)], "; Type: ")
			if i < 0 || j < 0 || k < 0 {
				return e, fmt.Errorf("pg_restore output: TOC entry %d: name line %q", id, line)
			}
			e.name, e.kind, e.schema, e.owner = rest[:k], rest[k+len("; Type: "):j], rest[j+len("; Schema: "):i], rest[i+len("; Owner: "):]
		}
	}
	if e.kind == "" {
		return e, fmt.Errorf("pg_restore output: TOC entry %d has no name line", id)
	}
	e.sql = strings.TrimSpace(sql)
	return e, nil
}

// splitStatements splits the GRANT and REVOKE statements of an ACL entry
// at the semicolons outside quoted names and strings. It is meant for
// those statements only (no dollar quoting, no comments).
func splitStatements(sql string) []string {
	var out []string
	var cur bytes.Buffer
	var quote byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		cur.WriteByte(c)
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ';':
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}
