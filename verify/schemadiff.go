package verify

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"strata/dbexport"
)

// SchemaDiff is how a restored database's schema, read back by the
// engine's exporter, differs from the schema a snapshot saved.
type SchemaDiff struct {
	Tables  map[string][]string // per table (qualified name): what differs
	Objects []string            // views, sequences and other objects, and tables not in the snapshot
}

// The fields of dbexport.Schema and dbexport.Table that describe the
// source database or the moment of the backup rather than a schema
// object: the scratch database of a drill has another name, the rows are
// compared by content, warnings and not_captured say what a backup could
// not save, binlog is where the source server's binary log stood.
// Encoding is the database's own, which the drill's scratch database
// takes from the server's defaults. archive describes the snapshot's
// schema archive (PostgreSQL's pg_dump), not an object: what it creates
// is compared through the other fields. A new field of either struct is a
// schema object, compared, unless it is listed here.
var (
	schemaStateFields = map[string]bool{
		"engine": true, "server_version": true, "database": true, "encoding": true,
		"warnings": true, "not_captured": true, "binlog": true, "archive": true,
		"tables": true, // compared table by table
	}
	tableStateFields = map[string]bool{"node": true, "rows": true, "consistent": true, "warning": true}
)

// CompareSchema compares the restored schema with the saved one for the
// tables restored (qualified names). The objects beyond the tables are
// compared only when every table of the snapshot was restored: a partial
// restore does not create them.
func CompareSchema(saved, restored *dbexport.Schema, tables []string) SchemaDiff {
	d := SchemaDiff{Tables: map[string][]string{}}
	for _, name := range tables {
		a, b := saved.Table(name), restored.Table(name)
		switch {
		case a == nil:
			continue // not a table of the snapshot: Drill did not restore it
		case b == nil:
			d.Tables[name] = append(d.Tables[name], "not found in the restored database")
			continue
		}
		a, b = unrecordedAlike(a, b)
		d.Tables[name] = restoredWords.diffObject("", toMap(a), toMap(b), tableStateFields)
	}
	if len(tables) < len(saved.Tables) {
		return d
	}
	for _, t := range restored.Tables {
		if saved.Table(t.NodeName()) == nil {
			d.Objects = append(d.Objects, fmt.Sprintf("table %s: restored, but not in the snapshot", t.QualifiedName()))
		}
	}
	if saved.Extensions == nil {
		// A snapshot taken before extensions were recorded.
		r := *restored
		r.Extensions = nil
		restored = &r
	}
	if saved.Grants != nil || restored.Grants != nil {
		// A drill restores no grants (MySQL would keep them after the
		// scratch database is dropped), and they name accounts outside
		// the database, which a drill does not prove.
		s, r := *saved, *restored
		s.Grants, r.Grants = nil, nil
		saved, restored = &s, &r
	}
	d.Objects = append(d.Objects, restoredWords.diffObject("", toMap(saved), toMap(restored), schemaStateFields)...)
	return d
}

// Wording says how the two sides of a schema comparison are named in
// its findings: a drill compares a snapshot with what was restored, a
// diff compares two snapshots.
type Wording struct {
	A, B         string // the sides' names: "snapshot", "restored"
	OnlyA, OnlyB string // an object of one side only: "is in the snapshot but was not restored"
	StmtA, StmtB string // a statement of one side only: "not restored"
}

var restoredWords = Wording{
	A: "snapshot", B: "restored",
	OnlyA: "is in the snapshot but was not restored", OnlyB: "was restored but is not in the snapshot",
	StmtA: "not restored", StmtB: "restored, not in the snapshot",
}

// SchemaChanges lists how table b's definition differs from a's (rows,
// consistency and warnings aside), worded by w.
func SchemaChanges(a, b *dbexport.Table, w Wording) []string {
	a, b = unrecordedAlike(a, b)
	return w.diffObject("", toMap(a), toMap(b), tableStateFields)
}

// SchemaObjectChanges lists how schema b differs from a beyond its tables
// (views, sequences, routines, triggers, ...), worded by w.
func SchemaObjectChanges(a, b *dbexport.Schema, w Wording) []string {
	return w.diffObject("", toMap(a), toMap(b), schemaStateFields)
}

// unrecordedAlike returns a and b with what only one of them records
// left out of both: the actions of a foreign key (dbexport.ForeignKey),
// which snapshots written before strata recorded them lack. A snapshot
// that does not say is no schema change. a and b are not modified.
func unrecordedAlike(a, b *dbexport.Table) (*dbexport.Table, *dbexport.Table) {
	if a == nil || b == nil {
		return a, b
	}
	byName := map[string]int{}
	for i, fk := range b.ForeignKeys {
		byName[fk.Name+"\x00"+fk.RefTable+"\x00"+strings.Join(fk.Columns, "\x00")] = i
	}
	var ca, cb *dbexport.Table
	for i, fk := range a.ForeignKeys {
		j, ok := byName[fk.Name+"\x00"+fk.RefTable+"\x00"+strings.Join(fk.Columns, "\x00")]
		if !ok {
			continue
		}
		gk := b.ForeignKeys[j]
		if (fk.OnDelete == "") == (gk.OnDelete == "") && (fk.OnUpdate == "") == (gk.OnUpdate == "") {
			continue
		}
		if ca == nil {
			x, y := *a, *b
			x.ForeignKeys = slices.Clone(a.ForeignKeys)
			y.ForeignKeys = slices.Clone(b.ForeignKeys)
			ca, cb = &x, &y
		}
		if fk.OnDelete == "" || gk.OnDelete == "" {
			ca.ForeignKeys[i].OnDelete, cb.ForeignKeys[j].OnDelete = "", ""
		}
		if fk.OnUpdate == "" || gk.OnUpdate == "" {
			ca.ForeignKeys[i].OnUpdate, cb.ForeignKeys[j].OnUpdate = "", ""
		}
	}
	if ca == nil {
		return a, b
	}
	return ca, cb
}

func toMap(v any) map[string]any {
	b, _ := json.Marshal(v) // the schema structs hold nothing that fails to marshal
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

// diffObject lists the fields (JSON names) whose values differ between
// the saved object a and the restored b, below the path prefix.
func (w Wording) diffObject(prefix string, a, b map[string]any, skip map[string]bool) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if skip[k] || reflect.DeepEqual(a[k], b[k]) {
			continue
		}
		out = append(out, w.diffValue(prefix+k, a[k], b[k])...)
	}
	return out
}

// diffValue says how the restored value b of field differs from the
// saved a: lists of named objects (columns, views, sequences) object by
// object, lists of statements statement by statement.
func (w Wording) diffValue(field string, a, b any) []string {
	la, aList := a.([]any)
	lb, bList := b.([]any)
	if (aList || a == nil) && (bList || b == nil) {
		// Objects of different kinds may share a name (a trigger and a
		// function): in that list the kind is part of the key.
		kinded := field == "objects"
		if na, ok := byName(la, kinded); ok {
			if nb, ok := byName(lb, kinded); ok {
				return w.diffNamed(field, la, lb, na, nb, kinded)
			}
		}
		if sa, ok := stringList(la); ok {
			if sb, ok := stringList(lb); ok {
				return w.diffStrings(field, sa, sb)
			}
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return w.diffText(field, sa, sb)
		}
	}
	return []string{fmt.Sprintf("%s differs: %s %s, %s %s", field, w.A, short(a), w.B, short(b))}
}

// diffText says how two texts differ by the part that differs, not by a
// prefix both share (a CREATE TABLE is the same up to its new index): a
// text of several lines by the lines only one side has (compared
// without their indentation and a trailing comma, which the line before
// an added last line gains), a text of one line by the differing middle
// with some context.
func (w Wording) diffText(field, a, b string) []string {
	if strings.Contains(a, "\n") || strings.Contains(b, "\n") {
		out := w.diffStrings(field+" lines", ddlLines(a), ddlLines(b))
		if len(out) != 1 || !strings.HasSuffix(out[0], "the same, in another order") {
			return out
		}
	}
	if len(a) <= 160 && len(b) <= 160 {
		return []string{fmt.Sprintf("%s differs: %s %s, %s %s", field, w.A, a, w.B, b)}
	}
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	const context = 40
	middle := func(s string) string {
		from, to := max(pre-context, 0), min(len(s)-suf+context, len(s))
		m := s[from:to]
		if from > 0 {
			m = "..." + m
		}
		if to < len(s) {
			m += "..."
		}
		return short(m)
	}
	return []string{fmt.Sprintf("%s differs at byte %d: %s %s, %s %s", field, pre, w.A, middle(a), w.B, middle(b))}
}

// ddlLines splits a text into its non-empty lines, each without its
// indentation and a trailing comma.
func ddlLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(strings.TrimSpace(l), ",")
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// byName keys a list of objects by their schema-qualified name, after
// their kind if kinded; ok is false when an element is not an object with
// a name.
func byName(l []any, kinded bool) (map[string]map[string]any, bool) {
	m := map[string]map[string]any{}
	for _, e := range l {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		name, ok := o["name"].(string)
		if !ok {
			return nil, false
		}
		if s, ok := o["schema"].(string); ok && s != "" {
			name = s + "." + name
		}
		if k, ok := o["kind"].(string); ok && kinded {
			name = k + " " + name
		}
		m[name] = o
	}
	return m, true
}

func nameOf(o any, kinded bool) string {
	m, _ := byName([]any{o}, kinded)
	for k := range m {
		return k
	}
	return ""
}

func (w Wording) diffNamed(field string, la, lb []any, a, b map[string]map[string]any, kinded bool) []string {
	var out []string
	for _, o := range la {
		n := nameOf(o, kinded)
		if _, ok := b[n]; !ok {
			out = append(out, fmt.Sprintf("%s: %s %s", field, n, w.OnlyA))
		}
	}
	for _, o := range lb {
		n := nameOf(o, kinded)
		if _, ok := a[n]; !ok {
			out = append(out, fmt.Sprintf("%s: %s %s", field, n, w.OnlyB))
		}
	}
	var order []string
	for _, o := range la {
		n := nameOf(o, kinded)
		if bo, ok := b[n]; ok {
			out = append(out, w.diffObject(field+" "+n+": ", a[n], bo, nil)...)
			order = append(order, n)
		}
	}
	var restoredOrder []string
	for _, o := range lb {
		if _, ok := a[nameOf(o, kinded)]; ok {
			restoredOrder = append(restoredOrder, nameOf(o, kinded))
		}
	}
	if len(out) == 0 && !reflect.DeepEqual(order, restoredOrder) {
		out = append(out, fmt.Sprintf("%s are in another order: %s %s, %s %s", field,
			w.A, strings.Join(order, ", "), w.B, strings.Join(restoredOrder, ", ")))
	}
	return out
}

func stringList(l []any) ([]string, bool) {
	s := make([]string, len(l))
	for i, e := range l {
		v, ok := e.(string)
		if !ok {
			return nil, false
		}
		s[i] = v
	}
	return s, true
}

// diffStrings compares lists of statements or names as sets, then by
// order.
func (w Wording) diffStrings(field string, a, b []string) []string {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	var out []string
	for _, s := range a {
		if count[s] > 0 {
			out = append(out, fmt.Sprintf("%s: %s: %s", field, w.StmtA, short(s)))
			count[s]--
		}
	}
	for _, s := range b {
		if count[s] < 0 {
			out = append(out, fmt.Sprintf("%s: %s: %s", field, w.StmtB, short(s)))
			count[s]++
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("%s: the same, in another order", field))
	}
	return out
}

// short is a value as compact JSON (a string as itself), cut at 160
// bytes.
func short(v any) string {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
