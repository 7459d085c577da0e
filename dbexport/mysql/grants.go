package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// This file saves and restores the privileges accounts and roles hold on
// the database, its tables and their columns (docs/design.md, "MySQL and
// MariaDB", "Grants"). mysqldump saves none; pg_dump saves a database's
// grants, and pg_restore gives them back where the roles exist.

// grants reads the privileges on the database (not those of a wildcard
// pattern that matches it, nor global ones), on its tables and on their
// columns, as information_schema shows them to the backup account.
func (s *Source) grants(ctx context.Context) ([]dbexport.Grant, error) {
	roles, err := s.roles(ctx)
	if err != nil {
		return nil, err
	}
	db := s.dsn.Database
	var out []dbexport.Grant
	err = s.query(ctx, func(r *sql.Rows) error {
		var grantee, table, column, priv, grantable string
		if err := r.Scan(&grantee, &table, &column, &priv, &grantable); err != nil {
			return err
		}
		user, host, ok := parseGrantee(grantee)
		if !ok {
			return fmt.Errorf("grantee %s: not 'user'@'host'", grantee)
		}
		g := dbexport.Grant{User: user, Host: host, Table: table, Privilege: priv, Grantable: grantable == "YES"}
		if host == "" && (roles == nil || roles[user]) {
			g.Role, g.Host = true, ""
		}
		if column != "" {
			if n := len(out); n > 0 && sameGrant(out[n-1], g) && len(out[n-1].Columns) > 0 {
				out[n-1].Columns = append(out[n-1].Columns, column)
				return nil
			}
			g.Columns = []string{column}
		}
		out = append(out, g)
		return nil
	}, `SELECT GRANTEE, '', '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES
			WHERE TABLE_SCHEMA IN (?, ?)
		UNION ALL SELECT GRANTEE, TABLE_NAME, '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES
			WHERE TABLE_SCHEMA = ?
		UNION ALL SELECT GRANTEE, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES
			WHERE TABLE_SCHEMA = ?
		ORDER BY 1, 2, 4, 3`, db, escapeDBPattern(db), db, db)
	if err != nil {
		return nil, fmt.Errorf("read the grants on %s: %w", db, err)
	}
	return out, nil
}

// roles returns MariaDB's roles, or nil when the account may not read
// mysql.user (or the server is MySQL, whose roles have a host): a
// grantee with an empty host is then taken for a role, as
// information_schema writes MariaDB's roles: with an empty host.
func (s *Source) roles(ctx context.Context) (map[string]bool, error) {
	roles := map[string]bool{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		roles[name] = true
		return nil
	}, "SELECT User FROM mysql.user WHERE is_role = 'Y'")
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return nil, nil // no access (1142), no such column (1054)
	}
	return roles, err
}

func sameGrant(a, b dbexport.Grant) bool {
	return a.User == b.User && a.Host == b.Host && a.Role == b.Role && a.Table == b.Table && a.Privilege == b.Privilege && a.Grantable == b.Grantable
}

// parseGrantee splits information_schema's 'user'@'host'.
func parseGrantee(g string) (user, host string, ok bool) {
	i := strings.LastIndex(g, "'@'")
	if i < 1 || !strings.HasPrefix(g, "'") || !strings.HasSuffix(g, "'") || len(g) < i+4 {
		return "", "", false
	}
	unq := strings.NewReplacer("''", "'", `\'`, "'", `\\`, `\`)
	return unq.Replace(g[1:i]), unq.Replace(g[i+3 : len(g)-1]), true
}

// escapeDBPattern escapes the wildcards of a database name, as a grant
// on that database alone writes it (`shop\_1`.*).
func escapeDBPattern(db string) string {
	return strings.NewReplacer(`\`, `\\`, "_", `\_`, "%", `\%`).Replace(db)
}

// grantStatement is the GRANT that gives g back in the database db.
func grantStatement(g dbexport.Grant, db string) string {
	priv := g.Privilege
	if len(g.Columns) > 0 {
		cols := make([]string, len(g.Columns))
		for i, c := range g.Columns {
			cols[i] = quoteIdent(c)
		}
		priv += " (" + strings.Join(cols, ", ") + ")"
	}
	on := quoteIdent(escapeDBPattern(db)) + ".*"
	if g.Table != "" {
		on = quoteIdent(db) + "." + quoteIdent(g.Table)
	}
	to := quoteString(g.User) + "@" + quoteString(g.Host)
	if g.Role {
		to = quoteIdent(g.User)
	}
	stmt := "GRANT " + priv + " ON " + on + " TO " + to
	if g.Grantable {
		stmt += " WITH GRANT OPTION"
	}
	return stmt
}

// restoreGrants gives back the snapshot's grants on the database (a whole
// restore only) and on the tables restored, each with its own GRANT,
// under NO_AUTO_CREATE_USER: without it MariaDB's GRANT creates a missing
// account, with no password. A grant to an account or role the target
// lacks, or one the restoring account may not make, is skipped and named
// in a notice, as the PostgreSQL restore does.
func (c *creator) restoreGrants(ctx context.Context, grants []dbexport.Grant, restored map[string]bool, whole bool) error {
	var todo []dbexport.Grant
	for _, g := range grants {
		if (g.Table == "" && whole) || (g.Table != "" && restored[g.Table]) {
			todo = append(todo, g)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// MySQL 8 has no NO_AUTO_CREATE_USER (1231), and never creates an
	// account in a GRANT.
	_, err := c.conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_CREATE_USER')")
	var me *mysql.MySQLError
	if err != nil && !(errors.As(err, &me) && me.Number == 1231) {
		return fmt.Errorf("grants: set NO_AUTO_CREATE_USER: %w", err)
	}
	defer c.reset()
	var missing, refused []string
	for _, g := range todo {
		stmt := grantStatement(g, c.db)
		_, err := c.conn.ExecContext(ctx, stmt)
		switch {
		case err == nil:
		case errors.As(err, &me) && me.Number == 1133: // no such account
			missing = append(missing, stmt)
		case errors.As(err, &me) && (me.Number == 1044 || me.Number == 1045 || me.Number == 1142 || me.Number == 1143 || me.Number == 1227 || me.Number == 1410):
			refused = append(refused, fmt.Sprintf("%s (%s)", stmt, me.Message))
		default:
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	if len(missing) > 0 {
		c.notify("grants not restored, as the target has no such account or role: " + strings.Join(missing, "; "))
	}
	if len(refused) > 0 {
		c.notify("grants not restored, as the restoring account may not make them: " + strings.Join(refused, "; "))
	}
	return nil
}
