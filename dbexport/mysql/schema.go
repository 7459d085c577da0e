package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// Schema describes the tables and views of the database as of the
// snapshot. DDL comes from SHOW CREATE TABLE, the rest from
// information_schema; Rows is COUNT(*) inside the snapshot.
//
// information_schema and SHOW CREATE are not transactional: they show
// the definitions of now, not of the snapshot's start. A table altered
// after Open fails its CopyOut on MySQL ("Table definition has changed")
// rather than being exported under the wrong definition.
func (s *Source) Schema(ctx context.Context) (*dbexport.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, errors.New("source is closed")
	}
	sc, err := s.schema(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: read schema: %w", s.dsn, err)
	}
	return sc, nil
}

// tableInfo is one row of information_schema.TABLES.
type tableInfo struct{ name, kind, engine string }

func (s *Source) schema(ctx context.Context) (*dbexport.Schema, error) {
	db := s.dsn.Database
	sc := &dbexport.Schema{
		Engine:        dbexport.EngineMySQL,
		ServerVersion: s.version,
		Database:      db,
		Encoding:      "UTF8", // the connection's utf8mb4
	}
	var infos []tableInfo
	err := s.query(ctx, func(r *sql.Rows) error {
		var ti tableInfo
		var engine sql.NullString
		if err := r.Scan(&ti.name, &ti.kind, &engine); err != nil {
			return err
		}
		ti.engine = engine.String
		infos = append(infos, ti)
		return nil
	}, "SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", db)
	if err != nil {
		return nil, err
	}
	// In Go, not in SQL: information_schema sorts case-insensitively, and
	// names that differ only in case would tie.
	sort.Slice(infos, func(i, j int) bool { return infos[i].name < infos[j].name })

	cols, err := s.columns(ctx)
	if err != nil {
		return nil, err
	}
	pks, err := s.primaryKeys(ctx)
	if err != nil {
		return nil, err
	}
	fks, err := s.foreignKeys(ctx)
	if err != nil {
		return nil, err
	}
	checks, err := s.checks(ctx)
	if err != nil {
		return nil, err
	}
	objects, missing, err := s.objects(ctx)
	if err != nil {
		return nil, err
	}
	sc.Objects = objects
	grants, grantGaps, err := s.grants(ctx, objects)
	if err != nil {
		return nil, err
	}
	sc.Grants = grants
	gaps, err := s.privilegeGaps(ctx)
	if err != nil {
		return nil, err
	}
	gaps = append(gaps, grantGaps...)
	for _, g := range gaps {
		sc.Warnings = append(sc.Warnings, g.warning)
		sc.NotCaptured = append(sc.NotCaptured, g.missing)
	}
	sc.Binlog = s.binlog
	if s.binlog != nil && !s.binlog.Enabled {
		sc.Warnings = append(sc.Warnings, "binary logging is off on the server: the snapshot records no binary log position, and cannot seed point-in-time recovery (start the server with log_bin)")
	} else if s.binlog != nil && s.binlog.Note != "" {
		sc.Warnings = append(sc.Warnings, "no binary log position recorded: "+s.binlog.Note)
	}

	for _, ti := range infos {
		switch ti.kind {
		case "VIEW":
			v, err := s.view(ctx, ti.name)
			if err != nil {
				return nil, err
			}
			sc.Views = append(sc.Views, v)
			continue
		case "SEQUENCE": // MariaDB 10.3 and later
			seq, err := s.sequence(ctx, ti.name)
			if err != nil {
				return nil, err
			}
			sc.Sequences = append(sc.Sequences, seq)
			continue
		case "BASE TABLE":
		default: // MariaDB's SYSTEM VERSIONED
			kind := strings.ToLower(ti.kind)
			if kind == "system versioned" {
				kind = "system-versioned table"
			}
			missing = append(missing, fmt.Sprintf("%s %s", kind, ti.name))
			continue
		}
		t := &dbexport.Table{
			Name:        ti.name,
			PrimaryKey:  pks[ti.name],
			ForeignKeys: fks[ti.name],
			Consistent:  strings.EqualFold(ti.engine, "InnoDB"),
		}
		for _, ck := range checks[ti.name] {
			t.Checks = append(t.Checks, ck.clause)
		}
		for _, c := range cols[ti.name] {
			c.Kind = kindOf(c.Type, isJSONCheck(c.Name, checks[ti.name]))
			t.Columns = append(t.Columns, c)
		}
		if err := s.tableDDL(ctx, t); err != nil {
			return nil, err
		}
		if err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(t.Name)).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("count rows of table %s: %w", t.Name, err)
		}
		if !t.Consistent {
			t.Warning = fmt.Sprintf("table %s uses %s: it is read at a slightly different moment than the InnoDB tables", t.Name, ti.engine)
			sc.Warnings = append(sc.Warnings, t.Warning)
		}
		if len(t.PrimaryKey) == 0 {
			w := fmt.Sprintf("table %s has no primary key: its rows are ordered by all columns, which costs a sort on every backup", t.Name)
			if t.Warning != "" {
				t.Warning += "; " + w
			} else {
				t.Warning = w
			}
			sc.Warnings = append(sc.Warnings, w)
		}
		sc.Tables = append(sc.Tables, t)
	}
	for _, m := range missing {
		sc.NotCaptured = append(sc.NotCaptured, m)
		sc.Warnings = append(sc.Warnings, m+" is not in the snapshot: strata cannot save it yet")
	}
	return sc, nil
}

// query runs q on the snapshot's connection and calls fn for each row.
func (s *Source) query(ctx context.Context, fn func(*sql.Rows) error, q string, args ...any) error {
	rows, err := s.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// columns returns the columns of every table, in order. Generated columns
// are exported with their values, like any other column (the restore
// leaves them out of its INSERTs: the server computes them again).
func (s *Source) columns(ctx context.Context) (map[string][]dbexport.Column, error) {
	out := map[string][]dbexport.Column{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var table, name, typ, nullable, extra string
		var def, charset, collation sql.NullString
		if err := r.Scan(&table, &name, &typ, &nullable, &def, &extra, &charset, &collation); err != nil {
			return err
		}
		c := dbexport.Column{Name: name, Type: typ, NotNull: nullable == "NO", Charset: charset.String, Collation: collation.String}
		c.Default = s.columnDefault(def, extra, kindOf(typ, false))
		out[table] = append(out[table], c)
		return nil
	}, `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, s.dsn.Database)
	return out, err
}

// columnDefault returns the default as an SQL expression, or nil for
// none or NULL. MariaDB reports expressions already ('abc', 3,
// current_timestamp()); MySQL reports literals bare and marks expressions
// DEFAULT_GENERATED.
func (s *Source) columnDefault(def sql.NullString, extra, kind string) *string {
	if !def.Valid {
		return nil
	}
	v := def.String
	switch {
	case s.mariaDB:
		if v == "NULL" {
			return nil
		}
		// nextval(`db`.`seq`): the sequence of the database restored
		// into, as in tableDDL.
		v = stripDatabase(v, s.dsn.Database)
	case strings.Contains(extra, "DEFAULT_GENERATED"):
	case kind == dbexport.KindInt || kind == dbexport.KindFloat || kind == dbexport.KindNumeric || kind == dbexport.KindBool:
	default:
		v = quoteString(v)
	}
	return &v
}

func (s *Source) primaryKeys(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var table, col string
		if err := r.Scan(&table, &col); err != nil {
			return err
		}
		out[table] = append(out[table], col)
		return nil
	}, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX`, s.dsn.Database)
	return out, err
}

func (s *Source) foreignKeys(ctx context.Context) (map[string][]dbexport.ForeignKey, error) {
	out := map[string][]dbexport.ForeignKey{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var table, name, col, refSchema, refTable, refCol, onDelete, onUpdate string
		if err := r.Scan(&table, &name, &col, &refSchema, &refTable, &refCol, &onDelete, &onUpdate); err != nil {
			return err
		}
		fks := out[table]
		if len(fks) == 0 || fks[len(fks)-1].Name != name {
			fk := dbexport.ForeignKey{Name: name, RefTable: refTable, OnDelete: onDelete, OnUpdate: onUpdate}
			if refSchema != s.dsn.Database {
				fk.RefSchema = refSchema
			}
			fks = append(fks, fk)
		}
		fk := &fks[len(fks)-1]
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
		out[table] = fks
		return nil
	}, `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
			k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
		FROM information_schema.KEY_COLUMN_USAGE k
		JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
			AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
		WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, s.dsn.Database)
	return out, err
}

type check struct{ name, clause string }

// checks returns the CHECK constraints of every table. Servers older than
// MariaDB 10.2 and MySQL 8.0.16 have none (and no CHECK_CONSTRAINTS).
func (s *Source) checks(ctx context.Context) (map[string][]check, error) {
	// MariaDB names check constraints per table (a column's check is
	// named after the column), MySQL per database, and only MariaDB has
	// CHECK_CONSTRAINTS.TABLE_NAME.
	q := `SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME`
	if !s.mariaDB {
		q = `SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
			FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.CHECK_CONSTRAINTS cc
			ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
			WHERE tc.CONSTRAINT_SCHEMA = ? AND tc.CONSTRAINT_TYPE = 'CHECK'
			ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME`
	}
	out := map[string][]check{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var table string
		var c check
		if err := r.Scan(&table, &c.name, &c.clause); err != nil {
			return err
		}
		out[table] = append(out[table], c)
		return nil
	}, q, s.dsn.Database)
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1109 || me.Number == 1054) { // unknown table, unknown column
		return map[string][]check{}, nil
	}
	return out, err
}

// isJSONCheck reports whether col is a MariaDB JSON column: MariaDB
// stores JSON as longtext with the column check json_valid(`col`).
func isJSONCheck(col string, checks []check) bool {
	for _, c := range checks {
		if c.name == col && c.clause == "json_valid("+quoteIdent(col)+")" {
			return true
		}
	}
	return false
}

// tableDDL fills t.DDL and t.PostDDL from SHOW CREATE TABLE.
func (s *Source) tableDDL(ctx context.Context, t *dbexport.Table) error {
	var name, ddl string
	if err := s.conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(t.Name)).Scan(&name, &ddl); err != nil {
		return fmt.Errorf("SHOW CREATE TABLE %s: %w", t.Name, err)
	}
	// MariaDB qualifies the sequence of a DEFAULT nextval(`db`.`seq`)
	// with its database: without it, the restore's CREATE TABLE takes
	// the sequence of the database it runs in, which it restored first.
	// Nothing else in a CREATE TABLE names a database.
	parts, err := splitTableDDL(stripDatabase(ddl, s.dsn.Database))
	if err != nil {
		return fmt.Errorf("table %s: %w", t.Name, err)
	}
	t.DDL = parts.create
	for _, fk := range parts.foreignKeys {
		t.PostDDL = append(t.PostDDL, "ALTER TABLE "+quoteIdent(t.Name)+" ADD "+fk)
	}
	if parts.autoIncrement != "" {
		t.PostDDL = append(t.PostDDL, autoIncrementPrefix(t)+parts.autoIncrement)
	}
	return nil
}

// view returns a view's definition, with its DEFINER, without the
// database's name, so it can be created in another database.
func (s *Source) view(ctx context.Context, name string) (dbexport.View, error) {
	row, err := s.showCreateRow(ctx, "SHOW CREATE VIEW "+quoteIdent(name))
	if err != nil {
		return dbexport.View{}, fmt.Errorf("view %s: %w", name, err)
	}
	v := dbexport.View{Name: name, DDL: stripDatabase(row["Create View"].String, s.dsn.Database), Settings: map[string]string{}}
	for col, setting := range showCreateSettings {
		if val, ok := row[col]; ok && val.Valid {
			v.Settings[setting] = val.String
		}
	}
	return v, nil
}

// sequence returns a MariaDB sequence's SHOW CREATE SEQUENCE and its
// position as mysqldump saves it: the next value not handed out to a
// connection's cache (values cached but not used are skipped, as after a
// restart of the server), and the count of cycles, read inside the
// snapshot.
func (s *Source) sequence(ctx context.Context, name string) (dbexport.Sequence, error) {
	seq := dbexport.Sequence{Name: name}
	var n string
	if err := s.conn.QueryRowContext(ctx, "SHOW CREATE SEQUENCE "+quoteIdent(name)).Scan(&n, &seq.DDL); err != nil {
		return seq, fmt.Errorf("SHOW CREATE SEQUENCE %s: %w", name, err)
	}
	if err := s.conn.QueryRowContext(ctx, "SELECT next_not_cached_value, cycle_count FROM "+quoteIdent(name)).Scan(&seq.Value, &seq.Round); err != nil {
		return seq, fmt.Errorf("read the position of sequence %s: %w", name, err)
	}
	return seq, nil
}
