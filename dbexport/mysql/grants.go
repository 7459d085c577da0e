package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// This file saves the privileges accounts and roles hold on the
// database, its tables, their columns and its routines (docs/design.md,
// "MySQL and MariaDB", "Grants"). mysqldump saves none; pg_dump saves a
// database's grants, and pg_restore gives them back where the roles
// exist. grants_restore.go gives them back.

// grants reads the privileges on the database (granted on it, through a
// wildcard pattern that matches it, or globally), on its tables and their
// columns, and on its routines, as the server shows them to the backup
// account. When the account may not read the grants on routines and the
// database has routines, the returned gap says so.
func (s *Source) grants(ctx context.Context, objects []dbexport.Object) ([]dbexport.Grant, []privilegeGap, error) {
	roles, err := s.roles(ctx)
	if err != nil {
		return nil, nil, err
	}
	db := s.dsn.Database
	var gaps []privilegeGap
	// MySQL 8's partial revokes take a global privilege away on some
	// databases (mysql.user's User_attributes), which strata does not
	// read: it saves no global privilege rather than one the account
	// does not have on the database.
	var partialRevokes string
	err = s.conn.QueryRowContext(ctx, "SELECT @@partial_revokes").Scan(&partialRevokes)
	var me *mysql.MySQLError
	if err != nil && !(errors.As(err, &me) && me.Number == 1193) { // MariaDB: no such variable
		return nil, nil, fmt.Errorf("read partial_revokes: %w", err)
	}
	withGlobal := partialRevokes != "1" && !strings.EqualFold(partialRevokes, "ON")
	if !withGlobal {
		gaps = append(gaps, privilegeGap{
			missing: "the global privileges that apply to the database (the server has partial_revokes on)",
			warning: fmt.Sprintf("the server has partial_revokes on, which strata does not read: the snapshot holds none of the global privileges that apply to %s", db),
		})
	}
	out, err := s.databaseGrants(ctx, roles, withGlobal)
	if err != nil {
		return nil, nil, fmt.Errorf("read the grants on %s: %w", db, err)
	}
	err = s.query(ctx, func(r *sql.Rows) error {
		var grantee, table, column, priv, grantable string
		if err := r.Scan(&grantee, &table, &column, &priv, &grantable); err != nil {
			return err
		}
		g, err := grantTo(grantee, roles)
		if err != nil {
			return err
		}
		g.Table, g.Privilege, g.Grantable = table, priv, grantable == "YES"
		if column != "" {
			if n := len(out); n > 0 && sameGrant(out[n-1], g) && len(out[n-1].Columns) > 0 {
				out[n-1].Columns = append(out[n-1].Columns, column)
				return nil
			}
			g.Columns = []string{column}
		}
		out = append(out, g)
		return nil
	}, `SELECT GRANTEE, TABLE_NAME, '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES
			WHERE TABLE_SCHEMA = ?
		UNION ALL SELECT GRANTEE, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES
			WHERE TABLE_SCHEMA = ?
		ORDER BY 1, 2, 4, 3`, db, db)
	if err != nil {
		return nil, nil, fmt.Errorf("read the grants on the tables of %s: %w", db, err)
	}
	routines, gap, err := s.routineGrants(ctx, roles, objects)
	if err != nil {
		return nil, nil, fmt.Errorf("read the grants on the routines of %s: %w", db, err)
	}
	return append(out, routines...), append(gaps, gap...), nil
}

// databaseGrants reads each account's privileges on the database: the
// global ones a grant on a database may hold (From "*.*"; withGlobal),
// then those of
// the one mysql.db row the server applies to the database (effectiveDBRows;
// From its pattern, or empty when the row names the database alone).
// information_schema does the matching case-insensitively, so it returns
// more rows than match; effectiveDBRows matches as the server does.
func (s *Source) databaseGrants(ctx context.Context, roles map[string]bool, withGlobal bool) ([]dbexport.Grant, error) {
	db := s.dsn.Database
	var lowerCaseNames int
	if err := s.conn.QueryRowContext(ctx, "SELECT @@lower_case_table_names").Scan(&lowerCaseNames); err != nil {
		return nil, err
	}
	global := map[string][]dbRow{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var grantee, priv, grantable string
		if err := r.Scan(&grantee, &priv, &grantable); err != nil {
			return err
		}
		if withGlobal && isDatabasePrivilege(priv) {
			global[grantee] = append(global[grantee], dbRow{pattern: "*.*", privilege: priv, grantable: grantable == "YES"})
		}
		return nil
	}, "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES")
	if err != nil {
		return nil, err
	}
	onDB := map[string][]dbRow{}
	err = s.query(ctx, func(r *sql.Rows) error {
		var grantee string
		var row dbRow
		var grantable string
		if err := r.Scan(&grantee, &row.pattern, &row.privilege, &grantable); err != nil {
			return err
		}
		row.grantable = grantable == "YES"
		onDB[grantee] = append(onDB[grantee], row)
		return nil
	}, "SELECT GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE ? LIKE TABLE_SCHEMA", db)
	if err != nil {
		return nil, err
	}
	grantees := slices.Sorted(maps.Keys(global))
	for g := range onDB {
		if _, ok := global[g]; !ok {
			grantees = append(grantees, g)
		}
	}
	slices.Sort(grantees)
	var out []dbexport.Grant
	for _, grantee := range grantees {
		rows := effectiveDBRows(onDB[grantee], db, lowerCaseNames != 0)
		slices.SortFunc(rows, func(a, b dbRow) int { return strings.Compare(a.privilege, b.privilege) })
		for _, r := range append(global[grantee], rows...) {
			g, err := grantTo(grantee, roles)
			if err != nil {
				return nil, err
			}
			g.Privilege, g.Grantable = r.privilege, r.grantable
			if r.pattern == "*.*" || sortKey(r.pattern) < 128 {
				g.From = r.pattern
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// isDatabasePrivilege reports whether a grant on a database may hold the
// privilege p: a global one of these applies to every database, the
// others (PROCESS, SUPER, CREATE USER, ...) to the server.
func isDatabasePrivilege(p string) bool {
	switch p {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES",
		"INDEX", "ALTER", "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE",
		"CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "EVENT",
		"TRIGGER", "DELETE HISTORY", "SHOW CREATE ROUTINE":
		return true
	}
	return false
}

// routineGrants reads the grants on the database's functions and
// procedures from mysql.procs_priv, which information_schema does not
// show. An account that may not read it gets a gap instead, when the
// database has routines.
func (s *Source) routineGrants(ctx context.Context, roles map[string]bool, objects []dbexport.Object) ([]dbexport.Grant, []privilegeGap, error) {
	var out []dbexport.Grant
	err := s.query(ctx, func(r *sql.Rows) error {
		var user, host, kind, name, privs string
		if err := r.Scan(&user, &host, &kind, &name, &privs); err != nil {
			return err
		}
		g := dbexport.Grant{User: user, Host: host, Routine: name, RoutineType: kind}
		if host == "" && (roles == nil || roles[user]) {
			g.Role = true
		}
		g.Grantable = slices.Contains(strings.Split(privs, ","), "Grant")
		for _, p := range strings.Split(privs, ",") {
			if p != "" && p != "Grant" {
				g.Privilege = strings.ToUpper(p)
				out = append(out, g)
			}
		}
		return nil
	}, `SELECT User, Host, Routine_type, Routine_name, Proc_priv FROM mysql.procs_priv
		WHERE Db = ? AND Routine_type IN ('FUNCTION', 'PROCEDURE')
		ORDER BY User, Host, Routine_type, Routine_name`, s.dsn.Database)
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1142 || me.Number == 1143 || me.Number == 1044) {
		for _, o := range objects {
			if o.Kind == dbexport.ObjectFunction || o.Kind == dbexport.ObjectProcedure {
				return nil, []privilegeGap{{
					missing: "the grants on the functions and procedures (the backup account could not read mysql.procs_priv)",
					warning: fmt.Sprintf("the account may not read mysql.procs_priv: the snapshot holds no grant on the functions and procedures of %s (GRANT SELECT ON mysql.procs_priv to the backup account)", s.dsn.Database),
				}}, nil
			}
		}
		return nil, nil, nil
	}
	return out, nil, err
}

// grantTo is a grant to information_schema's grantee 'user'@'host': a
// role when the host is empty and the user is a role (or roles are not
// known).
func grantTo(grantee string, roles map[string]bool) (dbexport.Grant, error) {
	user, host, ok := parseGrantee(grantee)
	if !ok {
		return dbexport.Grant{}, fmt.Errorf("grantee %s: not 'user'@'host'", grantee)
	}
	g := dbexport.Grant{User: user, Host: host}
	if host == "" && (roles == nil || roles[user]) {
		g.Role = true
	}
	return g, nil
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
