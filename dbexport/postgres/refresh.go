package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// refreshMatViews refreshes the populated materialized views of the
// target that read a restored table, directly or through views and other
// materialized views, each after those it reads: they hold what the
// restored rows give, as they would after a restore of every table
// (docs/design.md, "Restore"), but those in done (schema.name), which a
// whole restore re-created and refreshed. One that belongs to a role the user is not
// a member of cannot be refreshed by it, and is named in a notice.
func (r *restore) refreshMatViews(ctx context.Context, done map[string]bool) error {
	var tables []string
	for _, td := range r.tables {
		tables = append(tables, tableIdent(td.Table))
	}
	// A view's or materialized view's rule depends on the relations it
	// reads; the longest path from a restored table orders them.
	rows, err := r.tx.Query(ctx, `WITH RECURSIVE reads(oid, depth) AS (
			SELECT pg_catalog.to_regclass(t)::oid, 0 FROM pg_catalog.unnest($1::text[]) AS t
			UNION
			SELECT w.ev_class, x.depth + 1 FROM reads x
			JOIN pg_catalog.pg_depend d ON d.refobjid = x.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
				AND d.classid = 'pg_catalog.pg_rewrite'::regclass
			JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
			WHERE w.ev_class <> x.oid AND x.depth < 100)
		SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), n.nspname || '.' || c.relname,
			pg_catalog.pg_has_role(c.relowner, 'USAGE'), pg_catalog.pg_get_userbyid(c.relowner)
		FROM reads x JOIN pg_catalog.pg_class c ON c.oid = x.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'm' AND c.relispopulated
		GROUP BY 1, 2, 3, 4 ORDER BY max(x.depth), 2`, tables)
	if err != nil {
		return fmt.Errorf("list the materialized views over the restored tables: %w", err)
	}
	type matView struct {
		ident, name, owner string
		owned              bool
	}
	var views []matView
	var v matView
	if _, err := pgx.ForEachRow(rows, []any{&v.ident, &v.name, &v.owned, &v.owner}, func() error {
		views = append(views, v)
		return nil
	}); err != nil {
		return fmt.Errorf("list the materialized views over the restored tables: %w", err)
	}
	for _, v := range views {
		if done[v.name] {
			continue
		}
		if !v.owned {
			r.notify(fmt.Sprintf("materialized view %s reads restored tables but is not refreshed: it belongs to role %s (REFRESH MATERIALIZED VIEW %s as that role)", v.name, v.owner, v.ident))
			continue
		}
		if err := refreshMatView(ctx, r.tx, v.ident); err != nil {
			return fmt.Errorf("refresh materialized view %s: %w", v.name, err)
		}
	}
	return nil
}

// refreshSnapshotMatViews refreshes the materialized views of s that
// were populated, in Schema.MatViews order (each after those it reads),
// after the archive created them WITH NO DATA, and returns the names it
// refreshed. One the target lacks was left out with a table it reads.
func refreshSnapshotMatViews(ctx context.Context, tx pgx.Tx, s *dbexport.Schema) (map[string]bool, error) {
	done := map[string]bool{}
	for _, m := range s.MatViews {
		if !m.Populated {
			continue
		}
		var exists bool
		name := ident(m.Schema, m.Name)
		if err := tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up materialized view %s.%s: %w", m.Schema, m.Name, err)
		}
		if !exists {
			continue
		}
		if err := refreshMatView(ctx, tx, name); err != nil {
			return nil, fmt.Errorf("refresh materialized view %s.%s: %w", m.Schema, m.Name, err)
		}
		done[m.Schema+"."+m.Name] = true
	}
	return done, nil
}

// refreshMatView runs REFRESH MATERIALIZED VIEW ident with row_security
// on for that statement only. REFRESH runs the view's query as the
// view's owner, so its rows are what the row-level security policies
// let the owner see, as they were in the source; with the session's
// row_security off (sessionSettings), a table whose policies apply to
// the owner (FORCE ROW LEVEL SECURITY, or another role's table) makes it
// fail instead, as it makes pg_restore's unless --enable-row-security.
// row_security on lets no role see more than its policies allow.
func refreshMatView(ctx context.Context, tx pgx.Tx, ident string) error {
	if _, err := tx.Exec(ctx, "SET LOCAL row_security = on"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "REFRESH MATERIALIZED VIEW "+ident); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "SET LOCAL row_security = off")
	return err
}
