package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"strata/dbexport"
)

// This file reads the schema objects beyond tables and views: triggers,
// stored functions and procedures, and events (docs/design.md, "MySQL
// and MariaDB", "Schema"). Each keeps its DEFINER and the session
// settings it was created under, as SHOW CREATE gives them, so a restore
// recreates it as mysqldump's output would.

// Session settings an object is created under: the names of Object.Settings.
const (
	settingSQLMode           = "sql_mode"
	settingCharsetClient     = "character_set_client"
	settingCollationConn     = "collation_connection"
	settingTimeZone          = "time_zone"
	settingDatabaseCollation = "database_collation"
)

// showCreateSettings maps the columns of a SHOW CREATE TRIGGER, FUNCTION,
// PROCEDURE, EVENT or VIEW to the object's settings.
var showCreateSettings = map[string]string{
	"sql_mode":             settingSQLMode,
	"character_set_client": settingCharsetClient,
	"collation_connection": settingCollationConn,
	"time_zone":            settingTimeZone,
	"Database Collation":   settingDatabaseCollation,
}

// statementColumn is the column of SHOW CREATE that holds the statement.
var statementColumn = map[string]string{
	dbexport.ObjectTrigger:   "SQL Original Statement",
	dbexport.ObjectFunction:  "Create Function",
	dbexport.ObjectProcedure: "Create Procedure",
	dbexport.ObjectEvent:     "Create Event",
}

// objectRef names one object to read.
type objectRef struct{ kind, name, table string }

// objects reads the database's triggers (in the order the server fires
// them), routines and events. An object whose statement the server does
// not show (SHOW CREATE gives NULL to an account that may not see a
// routine's body) is named in the returned list of objects not captured.
func (s *Source) objects(ctx context.Context) ([]dbexport.Object, []string, error) {
	var refs []objectRef
	queries := []struct {
		kind, q string
	}{
		{dbexport.ObjectTrigger, `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS
			WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER`},
		{"", `SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES
			WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME`},
		{dbexport.ObjectEvent, `SELECT EVENT_NAME, '' FROM information_schema.EVENTS
			WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME`},
	}
	var missing []string
	for _, q := range queries {
		err := s.query(ctx, func(r *sql.Rows) error {
			var name, second string
			if err := r.Scan(&name, &second); err != nil {
				return err
			}
			ref := objectRef{kind: q.kind, name: name}
			switch q.kind {
			case dbexport.ObjectTrigger:
				ref.table = second
			case "":
				switch second {
				case "FUNCTION":
					ref.kind = dbexport.ObjectFunction
				case "PROCEDURE":
					ref.kind = dbexport.ObjectProcedure
				default: // MariaDB's PACKAGE and PACKAGE BODY (sql_mode=ORACLE)
					missing = append(missing, fmt.Sprintf("%s %s", strings.ToLower(second), name))
					return nil
				}
			}
			refs = append(refs, ref)
			return nil
		}, q.q, s.dsn.Database)
		if err != nil {
			return nil, nil, fmt.Errorf("list %ss: %w", orWord(q.kind, "routine"), err)
		}
	}
	var out []dbexport.Object
	for _, ref := range refs {
		o, ok, err := s.object(ctx, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", ref.kind, ref.name, err)
		}
		if !ok {
			missing = append(missing, fmt.Sprintf("%s %s (the account cannot see its definition)", ref.kind, ref.name))
			continue
		}
		out = append(out, o)
	}
	return out, missing, nil
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// object reads one object with SHOW CREATE; ok is false when the server
// shows no statement.
func (s *Source) object(ctx context.Context, ref objectRef) (dbexport.Object, bool, error) {
	o := dbexport.Object{Kind: ref.kind, Name: ref.name, Table: ref.table, Settings: map[string]string{}}
	row, err := s.showCreateRow(ctx, "SHOW CREATE "+strings.ToUpper(ref.kind)+" "+quoteIdent(ref.name))
	if err != nil {
		return o, false, err
	}
	stmt, ok := row[statementColumn[ref.kind]]
	if !ok || !stmt.Valid || stmt.String == "" {
		return o, false, nil
	}
	o.DDL = stmt.String
	for col, setting := range showCreateSettings {
		if v, ok := row[col]; ok && v.Valid {
			o.Settings[setting] = v.String
		}
	}
	return o, true, nil
}

// showCreateRow runs a SHOW CREATE statement and returns its one row by
// column name (the columns differ between kinds and servers).
func (s *Source) showCreateRow(ctx context.Context, q string) (map[string]sql.NullString, error) {
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s returned no row", q)
	}
	vals := make([]sql.NullString, len(names))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	out := make(map[string]sql.NullString, len(names))
	for i, n := range names {
		out[n] = vals[i]
	}
	return out, rows.Err()
}
