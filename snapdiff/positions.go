package snapdiff

import (
	"slices"
	"strings"

	"strata/dbexport"
	"strata/verify"
)

// This file tells a table's definition from its sequence positions: the
// post_ddl statements that set where a sequence or auto-increment
// counter stands (docs/design.md, "Diff", "Sequence positions") change
// whenever rows are inserted, and are state, not schema.

// isPosition reports whether a post_ddl statement of table t sets a
// sequence or auto-increment position: PostgreSQL's setval of a sequence
// the table owns, SQLite's sqlite_sequence row, MySQL's ALTER TABLE ...
// AUTO_INCREMENT = N.
func isPosition(t *dbexport.Table, stmt string) bool {
	switch {
	case strings.HasPrefix(stmt, "SELECT pg_catalog.setval("),
		strings.HasPrefix(stmt, "DELETE FROM sqlite_sequence WHERE name = "),
		strings.HasPrefix(stmt, "INSERT INTO sqlite_sequence(name, seq) VALUES ("):
		return true
	}
	prefix := "ALTER TABLE `" + strings.ReplaceAll(t.Name, "`", "``") + "` AUTO_INCREMENT = "
	n, ok := strings.CutPrefix(stmt, prefix)
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// splitPositions returns t without its position statements (a copy;
// t itself when it has none), and those statements.
func splitPositions(t *dbexport.Table) (*dbexport.Table, []string) {
	if t == nil {
		return nil, nil
	}
	var keep, pos []string
	for _, s := range t.PostDDL {
		if isPosition(t, s) {
			pos = append(pos, s)
		} else {
			keep = append(keep, s)
		}
	}
	if len(pos) == 0 {
		return t, nil
	}
	c := *t
	c.PostDDL = keep
	return &c, pos
}

// tableSchemaChanges sets d.Schema to the changes of the table's
// definition and d.PositionsMoved when only its positions differ
// beyond that.
func tableSchemaChanges(d *TableDiff) {
	a, pa := splitPositions(d.A)
	b, pb := splitPositions(d.B)
	d.Schema = verify.SchemaChanges(a, b, DiffWording)
	d.PositionsMoved = !slices.Equal(pa, pb)
}

// schemaObjectChanges lists the changes of the objects beyond tables,
// and apart the sequences (qualified names) whose position moved.
func schemaObjectChanges(sa, sb *dbexport.Schema) (changes, moved []string) {
	a, b := *sa, *sb
	a.Sequences, b.Sequences = slices.Clone(sa.Sequences), slices.Clone(sb.Sequences)
	name := func(s dbexport.Sequence) string {
		if s.Schema == "" {
			return s.Name
		}
		return s.Schema + "." + s.Name
	}
	pos := map[string]dbexport.Sequence{}
	for i := range a.Sequences {
		pos[name(a.Sequences[i])] = a.Sequences[i]
		a.Sequences[i].Value, a.Sequences[i].Called, a.Sequences[i].Round = 0, false, 0
	}
	for i := range b.Sequences {
		s := b.Sequences[i]
		if p, ok := pos[name(s)]; ok && (p.Value != s.Value || p.Called != s.Called || p.Round != s.Round) {
			moved = append(moved, name(s))
		}
		b.Sequences[i].Value, b.Sequences[i].Called, b.Sequences[i].Round = 0, false, 0
	}
	return verify.SchemaObjectChanges(&a, &b, DiffWording), moved
}
