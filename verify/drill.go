package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"strata/dbexport"
	"strata/pack"
	"strata/repo/restore"
)

// Inspector gives a drill SQL access to the restored tables.
type Inspector interface {
	// DB is the restored database.
	DB() *sql.DB
	// QuotedTableName is the quoted name a snapshot's table has in the
	// target, as a FROM item of its own rows (PostgreSQL: after ONLY, but
	// for a partitioned table).
	QuotedTableName(t *dbexport.Table) string
	// Quote quotes a column name.
	Quote(ident string) string
}

// TableDrill is what a drill found for one table.
type TableDrill struct {
	Table           string `json:"table"`
	SnapshotRows    int64  `json:"snapshot_rows"`
	RestoredRows    int64  `json:"restored_rows"`
	DuplicateKeys   int64  `json:"duplicate_keys"`   // primary key values that occur more than once
	OrphanRows      int64  `json:"orphan_rows"`      // rows whose foreign key finds no parent
	CheckViolations int64  `json:"check_violations"` // rows failing a CHECK expression
	// SnapshotHash and RestoredHash are the SHA-256 of the table's rows
	// in the canonical row encoding, as saved and as the engine's
	// exporter reads them back (same-engine drills only).
	SnapshotHash string `json:"snapshot_sha256,omitempty"`
	RestoredHash string `json:"restored_sha256,omitempty"`
	// LoadSeconds is how long the table's rows took to load into the
	// scratch database (dbexport.RestoreCounters.LoadTimes): its part of
	// RestoreSeconds, without the indexes and constraints built after.
	LoadSeconds float64  `json:"load_seconds"`
	Problems    []string `json:"problems,omitempty"` // what is off, in words
	Notes       []string `json:"notes,omitempty"`    // what could not be checked
}

// DrillReport is the outcome of a restore drill.
type DrillReport struct {
	Snapshot       string       `json:"snapshot"`
	Target         string       `json:"target"`
	RestoreSeconds float64      `json:"restore_seconds"`
	Tables         []TableDrill `json:"tables"`
	Error          string       `json:"error,omitempty"` // the restore itself failed
	// SameEngine: the drill restored into the snapshot's own engine and
	// compared rows and schema objects (CompareRestored).
	SameEngine bool `json:"same_engine"`
	// SchemaProblems are differences in schema objects other than
	// tables: views, sequences, tables not in the snapshot.
	SchemaProblems []string `json:"schema_problems,omitempty"`
}

// OK reports whether the restore worked and every table passed.
func (r *DrillReport) OK() bool {
	if r.Error != "" || len(r.SchemaProblems) > 0 {
		return false
	}
	for _, t := range r.Tables {
		if len(t.Problems) > 0 {
			return false
		}
	}
	return true
}

// Drill restores the table snapshot with root tree root into target (a
// scratch database) and inspects every table: rows restored against the
// snapshot's count, primary-key uniqueness, foreign-key orphans and CHECK
// violations. A failed restore is reported in the result, not as an error:
// an error means the drill itself could not run.
func Drill(ctx context.Context, l restore.BlobLoader, root pack.ID, target dbexport.Target, in Inspector, tables []string) (*DrillReport, error) {
	rep := &DrillReport{}
	start := time.Now()
	counters := &dbexport.RestoreCounters{}
	s, _, err := dbexport.Restore(ctx, l, root, target, dbexport.RestoreOptions{Tables: tables, Replace: true, Counters: counters})
	rep.RestoreSeconds = time.Since(start).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Error = err.Error()
		return rep, nil
	}
	byName := map[string]*dbexport.Table{}
	for _, t := range s.Tables {
		byName[t.Name] = t
		byName[t.QualifiedName()] = t
		byName[t.NodeName()] = t
	}
	for _, t := range s.Tables {
		td, err := inspectTable(ctx, in, t, byName)
		if err != nil {
			return nil, err
		}
		td.LoadSeconds = counters.LoadTimes()[t.NodeName()].Seconds()
		rep.Tables = append(rep.Tables, td)
	}
	return rep, nil
}

func inspectTable(ctx context.Context, in Inspector, t *dbexport.Table, byName map[string]*dbexport.Table) (TableDrill, error) {
	td := TableDrill{Table: t.NodeName(), SnapshotRows: t.Rows}
	name := in.QuotedTableName(t)
	db := in.DB()
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&td.RestoredRows); err != nil {
		return td, fmt.Errorf("drill: counting %s: %w", name, err)
	}
	if td.RestoredRows != td.SnapshotRows {
		td.Problems = append(td.Problems, fmt.Sprintf("%d rows restored, the snapshot has %d", td.RestoredRows, td.SnapshotRows))
	}
	if len(t.PrimaryKey) > 0 {
		cols := quoteAll(in, t.PrimaryKey)
		q := fmt.Sprintf("SELECT count(*) FROM (SELECT 1 AS x FROM %s GROUP BY %s HAVING count(*) > 1) dups", name, cols)
		if err := db.QueryRowContext(ctx, q).Scan(&td.DuplicateKeys); err != nil {
			return td, fmt.Errorf("drill: primary key of %s: %w", name, err)
		}
		if td.DuplicateKeys > 0 {
			td.Problems = append(td.Problems, fmt.Sprintf("%d primary key values occur more than once", td.DuplicateKeys))
		}
	} else {
		td.Notes = append(td.Notes, "no primary key: uniqueness not checked")
	}
	for _, fk := range t.ForeignKeys {
		parent := byName[fk.RefTable]
		if fk.RefSchema != "" {
			if p := byName[fk.RefSchema+"."+fk.RefTable]; p != nil {
				parent = p
			}
		}
		if parent == nil {
			td.Notes = append(td.Notes, fmt.Sprintf("foreign key to %s not checked: that table is not in the snapshot", fk.RefTable))
			continue
		}
		if fk.NotValid {
			td.Notes = append(td.Notes, fmt.Sprintf("foreign key %s to %s not checked: it is NOT VALID, older rows may break it", fk.Name, fk.RefTable))
			continue
		}
		var notNull, match []string
		for i, c := range fk.Columns {
			ref := c
			if i < len(fk.RefColumns) && fk.RefColumns[i] != "" {
				ref = fk.RefColumns[i]
			} else if i < len(parent.PrimaryKey) {
				ref = parent.PrimaryKey[i]
			}
			notNull = append(notNull, "c."+in.Quote(c)+" IS NOT NULL")
			match = append(match, "p."+in.Quote(ref)+" = c."+in.Quote(c))
		}
		q := fmt.Sprintf("SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)",
			name, strings.Join(notNull, " AND "), in.QuotedTableName(parent), strings.Join(match, " AND "))
		var n int64
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return td, fmt.Errorf("drill: foreign key %s -> %s: %w", td.Table, fk.RefTable, err)
		}
		if n > 0 {
			td.OrphanRows += n
			td.Problems = append(td.Problems, fmt.Sprintf("%d %s a missing %s row (%s)", n, plural(int(n), "row references", "rows reference"), fk.RefTable, strings.Join(fk.Columns, ", ")))
		}
	}
	for _, expr := range t.Checks {
		var n int64
		q := fmt.Sprintf("SELECT count(*) FROM %s WHERE NOT (%s)", name, expr)
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			td.Notes = append(td.Notes, fmt.Sprintf("CHECK (%s) not evaluated here: %v", expr, err))
			continue
		}
		if n > 0 {
			td.CheckViolations += n
			td.Problems = append(td.Problems, fmt.Sprintf("%d rows fail CHECK (%s)", n, expr))
		}
	}
	return td, nil
}

func quoteAll(in Inspector, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = in.Quote(c)
	}
	return strings.Join(q, ", ")
}
