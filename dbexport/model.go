package dbexport

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Engines.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
)

// Schema is what a snapshot needs to recreate the tables it holds. It is
// stored as JSON in the snapshot's "schema.json" node.
type Schema struct {
	Engine        string     `json:"engine"`
	ServerVersion string     `json:"server_version"`
	Database      string     `json:"database"`
	Encoding      string     `json:"encoding,omitempty"`
	Tables        []*Table   `json:"tables"`
	Views         []View     `json:"views,omitempty"`
	Sequences     []Sequence `json:"sequences,omitempty"`
	// Objects are the other schema objects: triggers (which belong to
	// their table), routines and events.
	Objects []Object `json:"objects,omitempty"`
	// MatViews are the materialized views, each after those it reads:
	// a restore from Archive refreshes the populated ones in this
	// order once the rows are loaded.
	MatViews []MatView `json:"mat_views,omitempty"`
	// Archive describes the engine's own dump of the schema that the
	// snapshot holds beside this JSON (PostgreSQL: pg_dump --schema-only
	// --format=custom), or is nil when the backup could not make one
	// (Warnings then say what is not saved).
	Archive  *SchemaArchive `json:"archive,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	// NotCaptured names each object the snapshot lacks (each also in
	// Warnings), so a restore can say what it does not recreate.
	NotCaptured []string `json:"not_captured,omitempty"`
	// Binlog is where a MySQL or MariaDB server's binary log stood at
	// the snapshot's point in time; nil for other engines and for
	// snapshots taken before strata recorded it.
	Binlog *Binlog `json:"binlog,omitempty"`
	// Pragmas are SQLite's database settings a whole restore sets again
	// (user_version, application_id).
	Pragmas map[string]int64 `json:"pragmas,omitempty"`
	// Grants are the privileges MySQL and MariaDB accounts hold on the
	// database (granted on it, through a wildcard pattern, or globally),
	// on its tables, columns and routines, as the server shows them to
	// the backup account; absent in snapshots taken before strata
	// recorded them.
	Grants []Grant `json:"grants,omitempty"`
	// Extensions are PostgreSQL's extensions in the selected schemas with
	// their versions, which the schema archive does not record (pg_dump
	// writes CREATE EXTENSION without VERSION); absent in snapshots
	// taken before strata recorded them.
	Extensions []Extension `json:"extensions,omitempty"`
}

// Extension is a PostgreSQL extension and its installed version.
type Extension struct {
	Name    string `json:"name"`
	Schema  string `json:"schema"`
	Version string `json:"version"`
}

// Object kinds.
const (
	ObjectTrigger   = "trigger"
	ObjectFunction  = "function"
	ObjectProcedure = "procedure"
	ObjectEvent     = "event"
)

// Object is a schema object other than a table, view or sequence. DDL is
// in the source engine's dialect and keeps the object's owner (MySQL's
// DEFINER), which a restore may drop.
type Object struct {
	Kind   string `json:"kind"` // Object* constants
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
	// Table is the table a trigger belongs to: it is recreated with the
	// table, by whole and partial restores alike.
	Table string `json:"table,omitempty"`
	DDL   string `json:"ddl"`
	// Settings are the session settings DDL was created under and must
	// be run under again (MySQL: sql_mode, character_set_client,
	// collation_connection, time_zone, and the database's collation).
	Settings map[string]string `json:"settings,omitempty"`
}

// Grant is one privilege of a MySQL or MariaDB account (User@Host) or
// role (Role true, Host empty) on the database (Table and Routine empty),
// one of its tables, some columns of one, or one of its functions or
// procedures (docs/design.md, "MySQL and MariaDB", "Grants").
type Grant struct {
	User    string   `json:"user"`
	Host    string   `json:"host,omitempty"`
	Role    bool     `json:"role,omitempty"`
	Table   string   `json:"table,omitempty"`
	Columns []string `json:"columns,omitempty"`
	// Routine is the function or procedure a grant is on, and RoutineType
	// says which (FUNCTION, PROCEDURE).
	Routine     string `json:"routine,omitempty"`
	RoutineType string `json:"routine_type,omitempty"`
	// From is where the source granted a privilege on the database when
	// not on the database itself: "*.*" for a global privilege, or the
	// wildcard pattern the database matched (`shop\_%`). A restore gives
	// it back on the target database alone.
	From      string `json:"from,omitempty"`
	Privilege string `json:"privilege"` // SELECT, INSERT, ...
	Grantable bool   `json:"grantable,omitempty"`
}

// Binlog is a MySQL or MariaDB binary log position: the point from which
// the server's binary logs replay the changes made after the snapshot
// (point-in-time recovery).
type Binlog struct {
	// Enabled is false when the server had binary logging off: there is
	// no position, and no point-in-time recovery from this snapshot.
	Enabled  bool   `json:"enabled"`
	File     string `json:"file,omitempty"`
	Position uint64 `json:"position,omitempty"`
	// GTID is the GTID position of File:Position (MariaDB's
	// BINLOG_GTID_POS), empty when the server has none.
	GTID string `json:"gtid,omitempty"`
	// Note says why the position is missing when binary logging is on.
	Note string `json:"note,omitempty"`
}

// MetaBinlog is the snapshot meta key that repeats Schema.Binlog, as
// Binlog.String writes it.
const MetaBinlog = "binlog"

// String says the position as notices and listings show it.
func (b *Binlog) String() string {
	switch {
	case b == nil:
		return "not recorded"
	case !b.Enabled:
		return "binary logging off"
	case b.File == "":
		return "unknown"
	case b.GTID != "":
		return fmt.Sprintf("%s:%d (GTID %s)", b.File, b.Position, b.GTID)
	}
	return fmt.Sprintf("%s:%d", b.File, b.Position)
}

// MatView is a materialized view; Populated is false for one created or
// left WITH NO DATA.
type MatView struct {
	Schema    string `json:"schema,omitempty"`
	Name      string `json:"name"`
	Populated bool   `json:"populated"`
}

// SchemaArchive describes the schema archive node of a snapshot
// (docs/design.md, "Schema archive").
type SchemaArchive struct {
	Node   string `json:"node"`   // the node's name: ArchiveNode
	Format string `json:"format"` // ArchivePgDumpCustom
	Tool   string `json:"tool"`   // the dump tool's --version line
	Size   int64  `json:"size"`
	// Load writes the archive; dbexport.Restore sets it for the target.
	Load func(ctx context.Context, w io.Writer) error `json:"-"`
}

// ArchivePgDumpCustom is the format of a PostgreSQL schema archive:
// pg_dump --schema-only --format=custom, uncompressed.
const ArchivePgDumpCustom = "pg_dump-custom"

// SchemaArchiver is a Source that also saves its schema with the
// engine's own dump tool. SchemaArchive writes the archive to w, made
// inside the Source's snapshot, and returns its description (Node and
// Size are filled in by Backup); it returns nil and no error, with
// warnings that say why and what is therefore not saved, when the tool
// cannot be used (missing, or older than the server).
type SchemaArchiver interface {
	SchemaArchive(ctx context.Context, w io.Writer) (*SchemaArchive, []string, error)
}

// Table is one table's definition. DDL and PostDDL are in the source
// engine's dialect; Columns carry enough for another engine to map types.
type Table struct {
	Schema string `json:"schema,omitempty"` // PostgreSQL schema
	Name   string `json:"name"`
	// Node is the name of the table's node in the snapshot when it is
	// not QualifiedName: set by backups for a table whose schema or name
	// holds a dot or a percent sign (see NodeName); absent otherwise, and
	// in every snapshot written before it existed.
	Node       string   `json:"node,omitempty"`
	Columns    []Column `json:"columns"`
	PrimaryKey []string `json:"primary_key,omitempty"`
	// DDL creates the table with its columns, defaults, NOT NULL, primary
	// key, unique and check constraints.
	DDL string `json:"ddl"`
	// PostDDL runs after the data is loaded: indexes, foreign keys,
	// triggers, sequence and auto-increment positions.
	PostDDL []string `json:"post_ddl,omitempty"`
	// ForeignKeys name the tables this one references, for restore order
	// and drills.
	ForeignKeys []ForeignKey `json:"foreign_keys,omitempty"`
	// Checks are the CHECK expressions every row meets, for drills (not
	// a PostgreSQL check added NOT VALID, which older rows may break).
	Checks []string `json:"checks,omitempty"`
	// Partitions are the qualified names of a partitioned table's
	// partitions (at every level): their rows are saved with it.
	Partitions []string `json:"partitions,omitempty"`
	Rows       int64    `json:"rows"`
	// Consistent is false when the engine could not give this table the
	// snapshot's point in time (a MyISAM table, say); Warning says why.
	// Warning holds every warning about this table, joined by "; "; each
	// is repeated in Schema.Warnings, from which a backup drops those of
	// the tables it leaves out.
	Consistent bool   `json:"consistent"`
	Warning    string `json:"warning,omitempty"`
	// RowEncoding is how the rows are written: RowEncodingCopy (also
	// when absent) or RowEncodingTyped; see RowEncodingOf.
	RowEncoding int `json:"row_encoding,omitempty"`
}

// Column is one column.
type Column struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"` // as the source engine writes it
	NotNull bool    `json:"not_null,omitempty"`
	Default *string `json:"default,omitempty"`
	// Kind is the engine-neutral family used for cross-engine restores
	// and key ordering (see Kind* constants).
	Kind string `json:"kind"`
	// Charset and Collation of a text column, as the engine names them
	// (its DDL already declares them; these are for drills and listings).
	Charset   string `json:"charset,omitempty"`
	Collation string `json:"collation,omitempty"`
	// RowID marks the hidden rowid of a SQLite rowid table, which its
	// DDL does not declare; Name is the alias it is read and written by.
	RowID bool `json:"rowid,omitempty"`
}

// Column kinds: the engine-neutral type families.
const (
	KindInt         = "int"
	KindFloat       = "float"
	KindNumeric     = "numeric"
	KindBool        = "bool"
	KindText        = "text"
	KindBytes       = "bytes"
	KindDate        = "date"
	KindTime        = "time"
	KindTimestamp   = "timestamp" // without time zone
	KindTimestampTZ = "timestamptz"
	KindJSON        = "json"
	KindUUID        = "uuid"
	KindArray       = "array"
	KindOther       = "other"
)

// ForeignKey is a reference from Columns to RefTable(RefColumns).
type ForeignKey struct {
	Name       string   `json:"name,omitempty"`
	Columns    []string `json:"columns"`
	RefSchema  string   `json:"ref_schema,omitempty"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	// OnDelete and OnUpdate are the referential actions as SQL writes
	// them (FKAction*). Empty: not recorded; snapshots written before
	// strata recorded them lack them, and readers take an empty action
	// as one that may cascade (docs/design.md, "Foreign keys").
	OnDelete string `json:"on_delete,omitempty"`
	OnUpdate string `json:"on_update,omitempty"`
	// NotValid marks a PostgreSQL key added NOT VALID: rows older than
	// the key may break it, so drills do not hold the restored rows to it.
	NotValid bool `json:"not_valid,omitempty"`
}

// Referential actions of a foreign key.
const (
	FKActionNoAction   = "NO ACTION"
	FKActionRestrict   = "RESTRICT"
	FKActionCascade    = "CASCADE"
	FKActionSetNull    = "SET NULL"
	FKActionSetDefault = "SET DEFAULT"
)

// Changes reports whether deleting (or updating, for onUpdate) a
// referenced row may change rows of the referencing table: a CASCADE,
// SET NULL or SET DEFAULT action, or an action not recorded.
func (fk ForeignKey) Changes(onUpdate bool) bool {
	a := fk.OnDelete
	if onUpdate {
		a = fk.OnUpdate
	}
	return a != FKActionNoAction && a != FKActionRestrict
}

// View is a view definition, recreated after the tables.
type View struct {
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
	DDL    string `json:"ddl"`
	// Settings: as Object.Settings (MySQL: character_set_client and
	// collation_connection).
	Settings map[string]string `json:"settings,omitempty"`
	// PostDDL runs after DDL: SQLite's triggers on the view.
	PostDDL []string `json:"post_ddl,omitempty"`
}

// Sequence is a PostgreSQL or MariaDB sequence with its position. For
// PostgreSQL, Value and Called are setval's arguments; for MariaDB,
// Value is the next value not cached (next_not_cached_value), Called is
// false and Round is the count of cycles (cycle_count): SETVAL(seq,
// Value, 0, Round) puts a new sequence there.
type Sequence struct {
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
	DDL    string `json:"ddl"`
	Value  int64  `json:"value"`
	Called bool   `json:"called"`
	Round  int64  `json:"round,omitempty"`
}

// QualifiedName is schema.name, or name when there is no schema: the
// table's name for people, and the name of its node in a snapshot unless
// Node says otherwise. Two tables may have the same one ("a.b".c and
// a."b.c"); NodeName tells them apart.
// KeyedByRowID reports whether t's primary key is the hidden rowid of a
// SQLite rowid table that declares no primary key: a key strata added
// to keep each row's rowid, which VACUUM may renumber
// (https://sqlite.org/lang_vacuum.html), so it does not name a row
// over time.
func (t *Table) KeyedByRowID() bool {
	if len(t.PrimaryKey) != 1 {
		return false
	}
	for _, c := range t.Columns {
		if c.RowID {
			return strings.EqualFold(c.Name, t.PrimaryKey[0])
		}
	}
	return false
}

func (t *Table) QualifiedName() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// NodeName is the name of the table's node in a snapshot: Node when set,
// else QualifiedName. Unlike QualifiedName it names one table of a
// snapshot only.
func (t *Table) NodeName() string {
	if t.Node != "" {
		return t.Node
	}
	return t.QualifiedName()
}

// EncodeNodeName returns the node name a backup gives the table schema.name
// (docs/design.md, "Schema", node names): schema.name itself (name
// without a schema) when neither part holds ".", "%", "/" or a NUL byte
// and the name is not empty, so the nodes of nearly all tables keep the
// name they always had; else the encoded name: each part with "%" written
// "%25", "." "%2E", "/" "%2F" and NUL "%00", an empty name written "%",
// joined by ".". An encoded name holds at most one unescaped dot and a
// "%", so two tables never share one and it differs from every plain
// name; DecodeNodeName reverses it. Either form is a valid node name
// (repo.CheckNodeName).
func EncodeNodeName(schema, name string) string {
	if name != "" && !strings.ContainsAny(schema, nodeNameEscaped) && !strings.ContainsAny(name, nodeNameEscaped) {
		if schema == "" {
			return name
		}
		return schema + "." + name
	}
	if schema == "" {
		return encodeNodeNamePart(name)
	}
	return encodeNodeNamePart(schema) + "." + encodeNodeNamePart(name)
}

// nodeNameEscaped are the bytes the encoded node name escapes: "%" and
// "." for the encoding itself, "/" and NUL because no node name holds
// them.
const nodeNameEscaped = "%./\x00"

var nodeNameEscaper = strings.NewReplacer("%", "%25", ".", "%2E", "/", "%2F", "\x00", "%00")

func encodeNodeNamePart(s string) string {
	if s == "" {
		return "%"
	}
	return nodeNameEscaper.Replace(s)
}

// DecodeNodeName returns the schema and name whose EncodeNodeName is
// node; ok is false when no schema and name encode to node. A plain name
// with a dot is read as schema.name.
func DecodeNodeName(node string) (schema, name string, ok bool) {
	parts := strings.Split(node, ".")
	if len(parts) > 2 {
		return "", "", false
	}
	if strings.Contains(node, "%") {
		for i, p := range parts {
			d, ok := decodeNodeNamePart(p)
			if !ok {
				return "", "", false
			}
			parts[i] = d
		}
	}
	if len(parts) == 2 {
		schema, name = parts[0], parts[1]
	} else {
		name = parts[0]
	}
	// Only the form EncodeNodeName writes.
	if EncodeNodeName(schema, name) != node {
		return "", "", false
	}
	return schema, name, true
}

// decodeNodeNamePart reverses encodeNodeNamePart.
func decodeNodeNamePart(p string) (string, bool) {
	if p == "%" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+3 > len(p) {
			return "", false
		}
		switch p[i+1 : i+3] {
		case "25":
			b.WriteByte('%')
		case "2E":
			b.WriteByte('.')
		case "2F":
			b.WriteByte('/')
		case "00":
			b.WriteByte(0)
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// KeyColumns returns the positions of the primary key columns, or of all
// columns when there is no primary key.
func (t *Table) KeyColumns() []int {
	if len(t.PrimaryKey) == 0 {
		all := make([]int, len(t.Columns))
		for i := range all {
			all[i] = i
		}
		return all
	}
	var pos []int
	for _, k := range t.PrimaryKey {
		for i, c := range t.Columns {
			if strings.EqualFold(c.Name, k) {
				pos = append(pos, i)
			}
		}
	}
	return pos
}

// SetNodeNames sets each table's Node as a backup does: the
// EncodeNodeName of a table whose node name is encoded.
func (s *Schema) SetNodeNames() {
	for _, t := range s.Tables {
		if n := EncodeNodeName(t.Schema, t.Name); n != t.QualifiedName() {
			t.Node = n
		}
	}
}

// Table returns the table with the node name, else the first with the
// qualified name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.NodeName() == name {
			return t
		}
	}
	for _, t := range s.Tables {
		if t.QualifiedName() == name {
			return t
		}
	}
	return nil
}

// Source is one consistent read snapshot of a database.
type Source interface {
	// Schema describes the tables, views and sequences as of the snapshot.
	Schema(ctx context.Context) (*Schema, error)
	// CopyOut writes the rows of t as COPY text, one row per line, ordered
	// by primary key (by all columns without one), and returns the count.
	CopyOut(ctx context.Context, t *Table, w io.Writer) (int64, error)
	// Close ends the snapshot.
	Close() error
}

// RowCounter is implemented by sources whose Schema does not count rows
// (SQLite): CountRows counts t's rows in the snapshot, for progress.
type RowCounter interface {
	CountRows(ctx context.Context, t *Table) (int64, error)
}

// TableData is one table to restore: its definition and its rows as COPY
// text.
type TableData struct {
	Table *Table
	Rows  func(ctx context.Context, w io.Writer) error
}

// Target writes tables into a database.
type Target interface {
	// Engine names the target's engine.
	Engine() string
	// RowCount returns the rows in the target's table named like t, and
	// whether the table exists.
	RowCount(ctx context.Context, t *Table) (int64, bool, error)
	// Restore creates the tables (dropping or emptying existing ones
	// when replace is set), loads their rows, then applies constraints,
	// indexes and sequence positions, in an order that respects foreign
	// keys. s is the snapshot's whole schema and tables the ones to
	// restore: when they are fewer than s's, the restore is partial and
	// changes only those tables and what they own (their sequences,
	// indexes, constraints); other tables' foreign keys, other
	// sequences and the views stay as they are in the target.
	Restore(ctx context.Context, s *Schema, tables []TableData, replace bool) error
	// Check runs, without changing anything, the checks that decide
	// whether Restore of tables (some or all of s's) can succeed: the
	// engine, types and referenced tables that must exist, privileges.
	// It returns every reason it finds, or nil. Restore does not call it;
	// dbexport.Restore calls it before Restore, and for a dry run.
	Check(ctx context.Context, s *Schema, tables []*Table, replace bool) error
	Close() error
}

// RestoresAll reports whether tables holds every table of s: a whole
// restore, which alone re-creates s's views and resets its free
// sequences. A partial one leaves them alone.
func RestoresAll(s *Schema, tables []TableData) bool {
	have := map[string]bool{}
	for _, td := range tables {
		have[td.Table.QualifiedName()] = true
	}
	for _, t := range s.Tables {
		if !have[t.QualifiedName()] {
			return false
		}
	}
	return true
}
