package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// This file recreates views, triggers, routines and events, each under
// the session settings it was created under, as mysqldump's output does
// (docs/design.md, "MySQL and MariaDB", "Restore").

// session holds a connection's own settings, put back after each object.
type session struct {
	sqlMode, charsetClient, collationConn, timeZone, collationDB string
}

func readSession(ctx context.Context, conn *sql.Conn) (session, error) {
	var s session
	var collationDB sql.NullString
	err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode, @@SESSION.character_set_client, @@SESSION.collation_connection, @@SESSION.time_zone, @@collation_database").
		Scan(&s.sqlMode, &s.charsetClient, &s.collationConn, &s.timeZone, &collationDB)
	s.collationDB = collationDB.String
	return s, err
}

// isUTF8Charset reports whether text sent as UTF-8 reads the same under
// the client character set cs.
func isUTF8Charset(cs string) bool {
	switch strings.ToLower(cs) {
	case "utf8mb4", "utf8mb3", "utf8":
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// creator creates objects on one connection of a restore.
type creator struct {
	conn      *sql.Conn
	db        string // the target database
	own       session
	noDefiner bool
	notify    func(string)
}

func newCreator(ctx context.Context, conn *sql.Conn, db string, noDefiner bool, notify func(string)) (*creator, error) {
	own, err := readSession(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("read the session settings: %w", err)
	}
	return &creator{conn: conn, db: db, own: own, noDefiner: noDefiner, notify: notify}, nil
}

// create runs ddl, the statement that creates the object what ("function
// f"), under settings, then puts the connection's own settings back. The
// server's warnings about the statement (a DEFINER account that does not
// exist, say) are passed to notify. drop, if not empty, runs first.
func (c *creator) create(ctx context.Context, what, drop, ddl string, settings map[string]string) error {
	if c.noDefiner {
		ddl = stripDefiner(ddl)
	}
	var set []string
	if v, ok := settings[settingSQLMode]; ok {
		set = append(set, "sql_mode = "+quoteString(v))
	}
	if v, ok := settings[settingTimeZone]; ok {
		set = append(set, "time_zone = "+quoteString(v))
	}
	if v, ok := settings[settingCharsetClient]; ok {
		// The statement reaches the server as UTF-8 text: under another
		// client character set its non-ASCII bytes would read as other
		// characters.
		if isUTF8Charset(v) || isASCII(ddl) {
			set = append(set, "character_set_client = "+quoteString(v))
		} else {
			c.notify(fmt.Sprintf("%s is created with character_set_client %s instead of its %s: its definition holds non-ASCII text", what, c.own.charsetClient, v))
		}
	}
	if v, ok := settings[settingCollationConn]; ok {
		set = append(set, "collation_connection = "+quoteString(v))
	}
	if len(set) > 0 {
		if _, err := c.conn.ExecContext(ctx, "SET SESSION "+strings.Join(set, ", ")); err != nil {
			return fmt.Errorf("%s: set its session settings: %w", what, err)
		}
		defer c.reset()
	}
	// The database collation a routine or trigger was created under is
	// its default for string values, as mysqldump keeps it.
	if v := settings[settingDatabaseCollation]; v != "" && v != c.own.collationDB && c.db != "" {
		if _, err := c.conn.ExecContext(ctx, "ALTER DATABASE "+quoteIdent(c.db)+" COLLATE "+quoteString(v)); err != nil {
			c.notify(fmt.Sprintf("%s is created under the database collation %s instead of its %s: %v", what, c.own.collationDB, v, err))
		} else {
			defer c.conn.ExecContext(context.WithoutCancel(ctx), "ALTER DATABASE "+quoteIdent(c.db)+" COLLATE "+quoteString(c.own.collationDB))
		}
	}
	if drop != "" {
		if _, err := c.conn.ExecContext(ctx, drop); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if _, err := c.conn.ExecContext(ctx, ddl); err != nil {
		var me *mysql.MySQLError
		// 1227: needs SUPER or SET USER for another DEFINER; 1449: the
		// DEFINER's account does not exist.
		if errors.As(err, &me) && (me.Number == 1227 || me.Number == 1449) && !c.noDefiner {
			return fmt.Errorf("%s: %w (restore with --no-definer to create it as the restoring account's own)", what, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return c.warnings(ctx, what, drop != "")
}

// reset puts the connection's own settings back.
func (c *creator) reset() {
	c.conn.ExecContext(context.Background(), "SET SESSION sql_mode = ?, time_zone = ?, character_set_client = ?, collation_connection = ?",
		c.own.sqlMode, c.own.timeZone, c.own.charsetClient, c.own.collationConn)
}

// warnings passes the warnings of the last statement to notify. MariaDB
// keeps those of a DROP ... IF EXISTS through the CREATE of a routine or
// event; with dropped, the note that there was nothing to drop is left
// out.
func (c *creator) warnings(ctx context.Context, what string, dropped bool) error {
	rows, err := c.conn.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return fmt.Errorf("%s: read the warnings: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		if dropped && code == 1305 { // "PROCEDURE db.p does not exist"
			continue
		}
		c.notify(fmt.Sprintf("%s: %s %d: %s", what, level, code, msg))
	}
	return rows.Err()
}

// createTriggers creates the snapshot's triggers of table, in the order
// the server fires them.
func (c *creator) createTriggers(ctx context.Context, s *dbexport.Schema, table string) error {
	for _, o := range s.Objects {
		if o.Kind == dbexport.ObjectTrigger && o.Table == table {
			if err := c.create(ctx, "trigger "+o.Name, "", o.DDL, o.Settings); err != nil {
				return err
			}
		}
	}
	return nil
}

// createRoutines creates the snapshot's functions and procedures, each
// after dropping one of the same name. The server does not resolve the
// names a body uses until it runs, so their order does not matter; views
// that call them are created after.
func (c *creator) createRoutines(ctx context.Context, s *dbexport.Schema) error {
	for _, o := range s.Objects {
		if o.Kind != dbexport.ObjectFunction && o.Kind != dbexport.ObjectProcedure {
			continue
		}
		drop := "DROP " + strings.ToUpper(o.Kind) + " IF EXISTS " + quoteIdent(o.Name)
		if err := c.create(ctx, o.Kind+" "+o.Name, drop, o.DDL, o.Settings); err != nil {
			return err
		}
	}
	return nil
}

// createEvents creates the snapshot's events, last, so none runs while
// the restore is under way.
func (c *creator) createEvents(ctx context.Context, s *dbexport.Schema) error {
	for _, o := range s.Objects {
		if o.Kind != dbexport.ObjectEvent {
			continue
		}
		drop := "DROP EVENT IF EXISTS " + quoteIdent(o.Name)
		if err := c.create(ctx, "event "+o.Name, drop, o.DDL, o.Settings); err != nil {
			return err
		}
	}
	return nil
}

// createViews creates the views, retrying those that refer to a view not
// created yet until a round makes no progress. A view of the same name is
// dropped first: it holds no rows.
func (c *creator) createViews(ctx context.Context, views []dbexport.View) error {
	pending := views
	for len(pending) > 0 {
		var again []dbexport.View
		var firstErr error
		for _, v := range pending {
			err := c.create(ctx, "view "+v.Name, "DROP VIEW IF EXISTS "+quoteIdent(v.Name), v.DDL, v.Settings)
			var me *mysql.MySQLError
			switch {
			case err == nil:
			case errors.As(err, &me) && (me.Number == 1146 || me.Number == 1356): // no such table; view refers to a missing one
				again = append(again, v)
				if firstErr == nil {
					firstErr = err
				}
			default:
				return err
			}
		}
		if len(again) == len(pending) {
			return firstErr
		}
		pending = again
	}
	return nil
}

// notRecreated names the snapshot's views, routines and events, which
// only a whole restore recreates, and its sequences but those created.
func notRecreated(s *dbexport.Schema, created []dbexport.Sequence) []string {
	var out []string
	for _, seq := range s.Sequences {
		if !slices.ContainsFunc(created, func(c dbexport.Sequence) bool { return c.Name == seq.Name }) {
			out = append(out, "sequence "+seq.Name)
		}
	}
	for _, v := range s.Views {
		out = append(out, "view "+v.Name)
	}
	for _, o := range s.Objects {
		if o.Kind != dbexport.ObjectTrigger {
			out = append(out, o.Kind+" "+o.Name)
		}
	}
	return out
}

// hasTriggers reports whether the snapshot holds triggers of table.
func hasTriggers(s *dbexport.Schema, table string) bool {
	for _, o := range s.Objects {
		if o.Kind == dbexport.ObjectTrigger && o.Table == table {
			return true
		}
	}
	return false
}
