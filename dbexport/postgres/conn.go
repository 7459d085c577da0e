package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/dbexport"
)

// Options configure a Source or a Target.
type Options struct {
	// Schemas limits a Source to these schemas (--schema); empty means
	// every schema but the system ones (pg_catalog, information_schema,
	// pg_toast, pg_temp_*).
	Schemas []string
	// Jobs is the number of connections that share the snapshot and run
	// CopyOut calls side by side (--jobs); below 1 means 1. For a Target,
	// the connections a restore from the schema archive loads tables and
	// builds indexes on (not all or nothing above 1).
	Jobs int
	// PasswordFile names a file whose first line is the password. It is
	// used when the DSN holds none; PGPASSWORD and ~/.pgpass come after.
	PasswordFile string
	// PgDump and PgRestore name the pg_dump and pg_restore to run; empty:
	// the ones on PATH. A Source without a usable pg_dump saves the
	// schema from the catalog alone, and warns what that leaves out.
	PgDump, PgRestore string
	// NoOwner and NoPrivileges are pg_restore's --no-owner and
	// --no-privileges for a Target: restored objects belong to the
	// restoring role, and their grants are not restored.
	NoOwner, NoPrivileges bool
	// Logger receives at slog.LevelWarn what a Target's restore did not
	// recreate, or did otherwise than the snapshot holds it (an owner
	// role missing, say), each message once.
	Logger *slog.Logger
}

// sessionSettings make the text that COPY writes canonical: the same data
// gives the same bytes whatever the server's or the database's defaults.
// extra_float_digits 1 is the shortest text that reads back to the same
// float (PostgreSQL 12 and later). search_path is emptied, as pg_dump
// does, so that format_type, pg_get_expr and friends qualify every name
// and the DDL means the same thing on the target. The timeouts are
// switched off so a long export is not cut short by a role's defaults.
// row_security is off, as pg_dump and pg_restore have it: a table whose
// row-level security would hide rows from the role (or refuse them) is
// an error, not an export or restore of the rows it lets through.
//
// rlsHidden tells of that error what to do.
var sessionSettings = []string{
	"SET row_security = off",
	"SET DateStyle = ISO",
	"SET IntervalStyle = postgres",
	"SET TimeZone = 'UTC'",
	"SET bytea_output = hex",
	"SET client_encoding = 'UTF8'",
	"SET extra_float_digits = 1",
	"SET standard_conforming_strings = on",
	"SET statement_timeout = 0",
	"SET lock_timeout = 0",
	"SET idle_in_transaction_session_timeout = 0",
	"SELECT pg_catalog.set_config('search_path', '', false)",
}

// minServerMajor is the oldest PostgreSQL strata reads: the catalog
// queries use pg_attribute.attgenerated (12), and 12 is the first release
// that writes floats as their shortest exact text.
const minServerMajor = 12

// serverMajor returns the major version of a server_version such as
// "15.20 (Debian 15.20-0+deb12u1)" or "17devel"; 0 when there is none.
func serverMajor(v string) int {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// connect opens one connection to d with the session settings applied.
// Errors name the DSN without its password.
func connect(ctx context.Context, d dbexport.DSN, opts Options) (*pgx.Conn, error) {
	if d.Engine != dbexport.EnginePostgres {
		return nil, fmt.Errorf("postgres: %s is not a PostgreSQL DSN", d.String())
	}
	cfg, password, err := connConfig(d, opts)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("connect to %s: %w", d.String(), err), password)
	}
	if v := conn.PgConn().ParameterStatus("server_version"); serverMajor(v) < minServerMajor {
		conn.Close(context.Background())
		return nil, fmt.Errorf("postgres: %s runs PostgreSQL %s; strata needs %d or later", d.String(), v, minServerMajor)
	}
	for _, s := range sessionSettings {
		if _, err := conn.Exec(ctx, s); err != nil {
			conn.Close(context.Background())
			return nil, redact(fmt.Errorf("set up session on %s (%s): %w", d.String(), s, err), password)
		}
	}
	return conn, nil
}

// connConfig builds the pgx configuration. The password never goes into
// the connection string that pgx parses, so no parse error can echo it.
func connConfig(d dbexport.DSN, opts Options) (*pgx.ConnConfig, string, error) {
	info, password := conninfo(d)
	cfg, err := pgx.ParseConfig(info)
	if err != nil {
		// The string holds no password, but name the DSN the user wrote.
		return nil, "", fmt.Errorf("postgres: invalid connection settings in %s: %w", d.String(), err)
	}
	if password == "" && opts.PasswordFile != "" {
		data, err := os.ReadFile(opts.PasswordFile)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: read password file: %w", err)
		}
		password, _, _ = strings.Cut(string(data), "\n")
		password = strings.TrimSuffix(password, "\r")
	}
	if password != "" {
		cfg.Password = password
	}
	return cfg, cfg.Password, nil
}

// conninfo returns d as a libpq keyword/value connection string without
// its password, and the password the DSN holds (in its user part or a
// password parameter). pgx and the pg_dump and pg_restore children
// (tools.go) read the same string.
func conninfo(d dbexport.DSN) (info, password string) {
	kv := map[string]string{
		"host":             d.Host,
		"port":             d.Port,
		"dbname":           d.Database,
		"application_name": "strata",
	}
	if d.User != "" {
		kv["user"] = d.User
	}
	password = d.Password
	for k, v := range d.Params {
		if len(v) == 0 {
			continue
		}
		if strings.Contains(strings.ToLower(k), "password") {
			if strings.EqualFold(k, "password") && password == "" {
				password = v[0]
			}
			continue
		}
		kv[k] = v[0]
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if kv[k] == "" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s ", k, quoteConnValue(kv[k]))
	}
	return b.String(), password
}

// quoteConnValue quotes a value for a keyword/value connection string.
func quoteConnValue(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `\'`)
	return "'" + v + "'"
}

// redactedError hides a password that a lower layer may have put into an
// error message. pgx does not do that today; this keeps it so.
type redactedError struct {
	err      error
	password string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.password, "xxxxx")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	return &redactedError{err: err, password: password}
}

// ident quotes a possibly qualified name.
func ident(parts ...string) string {
	return pgx.Identifier(parts).Sanitize()
}

// tableIdent is the quoted qualified name of t; tables from engines
// without schemas land in public.
func tableIdent(t *dbexport.Table) string {
	if t.Schema == "" {
		return ident("public", t.Name)
	}
	return ident(t.Schema, t.Name)
}

// quoteLiteral quotes a string constant (standard_conforming_strings is on
// in every session strata opens).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// rlsHidden adds to err, when row-level security of table would hide
// rows from the role (row_security is off), what to do about it.
func rlsHidden(err error, table string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" && strings.Contains(pe.Message, "row-level security") {
		return fmt.Errorf("%w (the role may not see every row of %s: connect as a superuser or a role with BYPASSRLS, or, as its owner, ALTER TABLE ... NO FORCE ROW LEVEL SECURITY while you do, as pg_dump needs)", err, table)
	}
	return err
}
