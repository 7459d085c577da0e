package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// A restore of some tables (or over existing ones) re-creates a table
// from the schema archive's entries that belong to it, when the snapshot
// has an archive: the table with its partitions, its sequences, column
// defaults, constraints, indexes, triggers, rules, policies, row-level
// security, comments and grants, and nothing else (docs/design.md,
// "Restore from the schema archive").

// tableArchive is the rendered archive of a restore that re-creates
// tables from it.
type tableArchive struct {
	a *archiveRestore
	// need holds the standalone objects the tables need (archiveneeds.go),
	// created those of them the restore created, and the attached
	// entries it ran.
	need, created map[int]bool
	attach        map[int]bool // the entries attached to those of need
	// kept names the objects of need the target held, which the restore
	// kept as they are, without comparing them with the snapshot's.
	kept []string
}

// openTableArchive renders the snapshot's archive for a restore of some
// tables; nil when the snapshot has none or pg_restore cannot read it
// (the restore then builds the tables from schema.json, and says so).
func (t *Target) openTableArchive(ctx context.Context, s *dbexport.Schema) (*tableArchive, error) {
	if s.Archive == nil || s.Archive.Load == nil {
		return nil, nil
	}
	tool, err := t.restoreTool(ctx, s)
	if err != nil {
		return nil, nil // usesArchive has said why
	}
	path, err := archiveFile(ctx, s.Archive)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	roles, err := t.listRoles(ctx)
	if err != nil {
		return nil, err
	}
	r, err := render(ctx, tool, path, t.opts, roles)
	if err != nil {
		t.notify(fmt.Sprintf("the schema archive is not used (%v): re-created tables are built from schema.json, without their triggers, rules, policies, comments, grants, partitions and inheritance", err))
		return nil, nil
	}
	a, err := t.newArchiveRestore(ctx, s, r, roles)
	if err != nil {
		return nil, err
	}
	a.skip, _ = r.exclude(s)
	return &tableArchive{a: a, created: map[int]bool{}}, nil
}

// perTable are the kinds of entries that belong to one table: found by
// their dependency on it (and, for those whose tag starts with the
// table's name, by that name too).
var perTable = map[string]bool{
	"CONSTRAINT": true, "FK CONSTRAINT": true, "CHECK CONSTRAINT": true, "INDEX": true, "INDEX ATTACH": true,
	"TABLE ATTACH": true, "TRIGGER": true, "RULE": true, "POLICY": true, "ROW SECURITY": true, "DEFAULT": true,
	"COMMENT": true, "ACL": true, "SECURITY LABEL": true, "SEQUENCE OWNED BY": true, "SEQUENCE": true,
	"STATISTICS": true,
}

// taggedByTable are the kinds whose tag is "table name" or "table": the
// tag says which table they belong to (an FK CONSTRAINT depends on the
// table it references too).
var taggedByTable = map[string]bool{
	"CONSTRAINT": true, "FK CONSTRAINT": true, "CHECK CONSTRAINT": true, "TRIGGER": true, "RULE": true,
	"POLICY": true, "ROW SECURITY": true, "DEFAULT": true,
}

// entriesFor returns the pre-data and post-data entries that re-create
// tables (and their partitions), and with views the views and
// materialized views, in the archive's order, with the
// standalone objects they need and the entries attached to those (which
// run only when the target lacks the object: runNeeded).
func (ta *tableArchive) entriesFor(tables []*dbexport.Table, views bool) (pre, post []tocEntry, missing []string) {
	r := ta.a.r
	all := append(append([]tocEntry{}, r.pre...), r.post...)
	byID := map[int]tocEntry{}
	for _, e := range all {
		byID[e.id] = e
	}
	want := map[string]bool{} // schema.name of the tables and partitions
	// The tables by schema and name: "a.b".c is not a."b.c".
	wantTable := map[[2]string]bool{}
	partition := map[string]bool{}
	for _, t := range tables {
		want[tocTag(t.QualifiedName())] = true
		wantTable[[2]string{tocTag(t.Schema), tocTag(t.Name)}] = true
		for _, p := range t.Partitions {
			want[tocTag(p)] = true
			partition[tocTag(p)] = true
		}
	}
	in := map[int]bool{}
	found := map[string]bool{}
	for _, e := range all {
		if e.kind == "TABLE" && (wantTable[[2]string{e.schema, e.name}] || partition[e.schema+"."+e.name]) {
			in[e.id] = true
			found[e.schema+"."+e.name] = true
		}
	}
	for n := range want {
		if !found[n] {
			missing = append(missing, n)
		}
	}
	if views {
		// A whole restore: the views and materialized views with their
		// indexes, rules, comments and grants, but those over a table
		// the snapshot lacks.
		for _, e := range all {
			if (e.kind == "VIEW" || e.kind == "MATERIALIZED VIEW") && !ta.a.skip[e.id] {
				in[e.id] = true
				want[e.schema+"."+e.name] = true
			}
		}
	}
	ownTable := func(e tocEntry) bool {
		if !taggedByTable[e.kind] {
			return true
		}
		// Compared whole: a schema's name may hold a dot.
		tag := e.schema + "." + e.name
		for n := range want {
			if tag == n || strings.HasPrefix(tag, n+" ") {
				return true
			}
		}
		return false
	}
	for changed := true; changed; {
		changed = false
		for _, e := range all {
			if in[e.id] || !perTable[e.kind] || !ownTable(e) {
				continue
			}
			belongs := false
			for _, d := range e.deps {
				if !in[d] {
					continue
				}
				belongs = true
				if e.kind == "SEQUENCE OWNED BY" {
					in[firstOf(e.deps, byID, "SEQUENCE")] = true
				}
			}
			if belongs {
				in[e.id] = true
				changed = true
			}
		}
	}
	var own []tocEntry
	for _, e := range all {
		if in[e.id] {
			own = append(own, e)
		}
	}
	ta.need = ta.needs(own)
	ta.attach = ta.attachments(all, ta.need)
	for id := range ta.attach {
		in[id] = true
	}
	for id := range ta.need {
		in[id] = true
	}
	for _, e := range r.pre {
		if in[e.id] {
			pre = append(pre, e)
		}
	}
	for _, e := range r.post {
		if in[e.id] {
			post = append(post, e)
		}
	}
	return pre, post, missing
}

// schemas returns the names of the schemas the tables need, as the
// archive's entry headers show them: created from the archive, with
// their comments and grants, when the target lacks them.
func (ta *tableArchive) schemas() map[string]bool {
	out := map[string]bool{}
	for _, e := range ta.a.r.pre {
		if ta.need[e.id] && e.kind == "SCHEMA" {
			out[e.name] = true
		}
	}
	return out
}

// firstOf returns the first of deps whose entry is of kind, or 0.
func firstOf(deps []int, byID map[int]tocEntry, kind string) int {
	for _, d := range deps {
		if byID[d].kind == kind {
			return d
		}
	}
	return 0
}

// createdNames names the standalone objects the restore created.
func (ta *tableArchive) createdNames() []string {
	var out []string
	for _, e := range ta.a.r.pre {
		if ta.created[e.id] && ta.need[e.id] {
			out = append(out, e.what())
		}
	}
	return out
}

// preamble runs the archive's session settings.
func (ta *tableArchive) preamble(ctx context.Context, tx pgx.Tx) error {
	if ta.a.r.preamble == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, ta.a.r.preamble); err != nil {
		return fmt.Errorf("session settings of the schema archive: %w", err)
	}
	return nil
}

// errNotInArchive: a table to re-create is not in the archive.
var errNotInArchive = errors.New("not in the schema archive")
