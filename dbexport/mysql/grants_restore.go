package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// This file gives the snapshot's grants back (docs/design.md, "MySQL and
// MariaDB", "Restore", step 6): each on the target database alone, so a
// privilege the source held globally or through a wildcard pattern
// reaches no other database of the target server.

// grantsAfterTables are the grants a restore gives back once its tables
// are loaded: those on the database (a whole restore only) and those on
// the tables restored.
func grantsAfterTables(grants []dbexport.Grant, restored map[string]bool, whole bool) []dbexport.Grant {
	var out []dbexport.Grant
	for _, g := range grants {
		switch {
		case g.Routine != "":
		case g.Table == "" && whole, g.Table != "" && restored[g.Table]:
			out = append(out, g)
		}
	}
	return out
}

// routineGrants are the grants on the snapshot's functions and
// procedures, which a whole restore gives back once it has created them.
func routineGrants(grants []dbexport.Grant) []dbexport.Grant {
	var out []dbexport.Grant
	for _, g := range grants {
		if g.Routine != "" {
			out = append(out, g)
		}
	}
	return out
}

// grantGroup is one GRANT: the privileges one grantee holds on one object
// with the same grant option.
type grantGroup struct {
	to, on    string
	grantable bool
	privs     []string // SELECT, UPDATE (`a`, `b`), ...
}

func (g grantGroup) statement(privs []string) string {
	stmt := "GRANT " + strings.Join(privs, ", ") + " ON " + g.on + " TO " + g.to
	if g.grantable {
		stmt += " WITH GRANT OPTION"
	}
	return stmt
}

// grantGroups gathers grants into GRANT statements in the database db, in
// the order of their first grant. A privilege on the database is granted
// on `db`.*, its wildcards escaped so that it names db alone, wherever
// the source granted it (From).
func grantGroups(grants []dbexport.Grant, db string) []grantGroup {
	var out []grantGroup
	for _, g := range grants {
		priv := g.Privilege
		if len(g.Columns) > 0 {
			cols := make([]string, len(g.Columns))
			for i, c := range g.Columns {
				cols[i] = quoteIdent(c)
			}
			priv += " (" + strings.Join(cols, ", ") + ")"
		}
		on := quoteIdent(escapeDBPattern(db)) + ".*"
		switch {
		case g.Routine != "":
			on = g.RoutineType + " " + quoteIdent(db) + "." + quoteIdent(g.Routine)
		case g.Table != "":
			on = quoteIdent(db) + "." + quoteIdent(g.Table)
		}
		to := quoteString(g.User) + "@" + quoteString(g.Host)
		if g.Role {
			to = quoteIdent(g.User)
		}
		i := slices.IndexFunc(out, func(o grantGroup) bool { return o.to == to && o.on == on && o.grantable == g.Grantable })
		if i < 0 {
			out = append(out, grantGroup{to: to, on: on, grantable: g.Grantable})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].privs, priv) {
			out[i].privs = append(out[i].privs, priv)
		}
	}
	return out
}

// account is a grantee of the target server: user and host, or a role
// (host empty).
type account struct{ user, host string }

// heldGlobally returns the global privileges the target's accounts hold,
// as information_schema shows them to the restoring account: privilege to
// grant option. seesAll is false when the restoring account may not read
// the mysql database: information_schema then shows its own alone.
func (c *creator) heldGlobally(ctx context.Context) (held map[account]map[string]bool, seesAll bool, err error) {
	_, err = c.conn.ExecContext(ctx, "SELECT 1 FROM mysql.user LIMIT 0")
	var me *mysql.MySQLError
	switch {
	case err == nil:
		seesAll = true
	case errors.As(err, &me) && (me.Number == 1142 || me.Number == 1044):
	default:
		return nil, false, fmt.Errorf("grants: read mysql.user: %w", err)
	}
	rows, err := c.conn.QueryContext(ctx, "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES")
	if err != nil {
		return nil, false, fmt.Errorf("grants: read the target's global privileges: %w", err)
	}
	defer rows.Close()
	held = map[account]map[string]bool{}
	for rows.Next() {
		var grantee, priv, grantable string
		if err := rows.Scan(&grantee, &priv, &grantable); err != nil {
			return nil, false, err
		}
		user, host, ok := parseGrantee(grantee)
		if !ok {
			continue
		}
		a := account{user, host}
		if held[a] == nil {
			held[a] = map[string]bool{}
		}
		held[a][priv] = grantable == "YES"
	}
	return held, seesAll, rows.Err()
}

// grantRefusals are the errors of a GRANT the target will not make, which
// skip it rather than fail the restore: the restoring account may not
// make it (1044, 1045, 1142, 1143, 1227, 1410), or the server does not
// know the privilege (1064: a MariaDB privilege on MySQL) or grants it
// only globally (1221).
func grantRefused(n uint16) bool {
	switch n {
	case 1044, 1045, 1142, 1143, 1227, 1410, 1064, 1221:
		return true
	}
	return false
}

// restoreGrants gives back grants, one GRANT per grantee, object and
// grant option (one per privilege when the target refuses some of them),
// under NO_AUTO_CREATE_USER: without it MariaDB's GRANT creates a missing
// account, with no password. A privilege the source held globally is not
// given again to an account that holds it globally on the target (a grant
// on the database would add nothing), nor, when the restoring account may
// not see the target's other accounts, to those: root would get a row
// for each of its global privileges. A grant to an account, role or
// routine the target lacks, or one the target refuses, is skipped and
// named in a notice, as the PostgreSQL restore does.
func (c *creator) restoreGrants(ctx context.Context, grants []dbexport.Grant) error {
	if len(grants) == 0 {
		return nil
	}
	held, seesAll, err := c.heldGlobally(ctx)
	if err != nil {
		return err
	}
	var unseen []dbexport.Grant
	grants = slices.DeleteFunc(slices.Clone(grants), func(g dbexport.Grant) bool {
		if g.From != "*.*" {
			return false
		}
		privs, seen := held[account{g.User, g.Host}]
		if !seen && !seesAll {
			unseen = append(unseen, g)
			return true
		}
		grantable, ok := privs[g.Privilege]
		return ok && (grantable || !g.Grantable)
	})
	if len(unseen) > 0 {
		var stmts []string
		for _, g := range grantGroups(unseen, c.db) {
			stmts = append(stmts, g.statement(g.privs))
		}
		c.notify("grants not restored, as the restoring account may not read the mysql database to see whether the target's accounts hold these privileges globally, as they did on the source: " + strings.Join(stmts, "; "))
	}
	if len(grants) == 0 {
		return nil
	}
	// MySQL 8 has no NO_AUTO_CREATE_USER (1231), and never creates an
	// account in a GRANT.
	_, err = c.conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_CREATE_USER')")
	var me *mysql.MySQLError
	if err != nil && !(errors.As(err, &me) && me.Number == 1231) {
		return fmt.Errorf("grants: set NO_AUTO_CREATE_USER: %w", err)
	}
	defer c.reset()
	var missing, noRoutine, refused []string
	run := func(stmt string) (refusal *mysql.MySQLError, err error) {
		_, err = c.conn.ExecContext(ctx, stmt)
		var me *mysql.MySQLError
		switch {
		case err == nil:
		case errors.As(err, &me) && me.Number == 1133: // no such account
			missing = append(missing, stmt)
		case errors.As(err, &me) && me.Number == 1305: // no such routine
			noRoutine = append(noRoutine, stmt)
		case errors.As(err, &me) && grantRefused(me.Number):
			return me, nil
		default:
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
		return nil, nil
	}
	for _, g := range grantGroups(grants, c.db) {
		stmt := g.statement(g.privs)
		refusal, err := run(stmt)
		if err != nil {
			return err
		}
		if refusal == nil {
			continue
		}
		if len(g.privs) == 1 {
			refused = append(refused, fmt.Sprintf("%s (%s)", stmt, refusal.Message))
			continue
		}
		// Give back what the target allows.
		for _, p := range g.privs {
			stmt := g.statement([]string{p})
			refusal, err := run(stmt)
			if err != nil {
				return err
			}
			if refusal != nil {
				refused = append(refused, fmt.Sprintf("%s (%s)", stmt, refusal.Message))
			}
		}
	}
	if len(missing) > 0 {
		c.notify("grants not restored, as the target has no such account or role: " + strings.Join(missing, "; "))
	}
	if len(noRoutine) > 0 {
		c.notify("grants not restored, as the target has no such routine: " + strings.Join(noRoutine, "; "))
	}
	if len(refused) > 0 {
		c.notify("grants not restored, as the target refuses them: " + strings.Join(refused, "; "))
	}
	return nil
}
