package customerdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// seed makes every build and every hour of churn the same on every run.
const seed = 0x5747a7a

// Options size a new database.
type Options struct {
	// Customers is the number of customers; the database gets three
	// services per customer, a family account per ten customers and about
	// 2.5 members per family account.
	Customers int
}

// Open opens (or creates) the SQLite file at path the way a Laravel
// application does: foreign keys enforced, WAL journal.
func Open(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}

// Build creates the tables in an empty database and fills them. The
// contents depend only on opts.
func Build(ctx context.Context, db *sql.DB, opts Options) error {
	if opts.Customers <= 0 {
		return fmt.Errorf("customerdb: Customers must be positive, got %d", opts.Customers)
	}
	// A large page cache keeps the random inserts into the e-mail index
	// in memory; the connection pool holds one connection, so the pragma
	// applies to the transaction below.
	if _, err := db.ExecContext(ctx, "PRAGMA cache_size = -524288"); err != nil {
		return err
	}
	defer db.ExecContext(ctx, "PRAGMA cache_size = -2000")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range createTables {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the schema: %s: %w", firstLine(stmt), err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	pkgs, err := buildCatalog(ctx, tx, rng)
	if err != nil {
		return err
	}
	if err := buildCustomers(ctx, tx, rng, pkgs, int64(opts.Customers)); err != nil {
		return err
	}
	if err := buildFamilies(ctx, tx, rng, int64(opts.Customers)); err != nil {
		return err
	}
	for _, stmt := range createIndexes {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating indexes: %s: %w", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func buildCatalog(ctx context.Context, tx *sql.Tx, rng *rand.Rand) ([]packageRow, error) {
	start := historyStart().Add(-30 * 24 * time.Hour)
	ts := start.Format(TimeLayout)
	for i, name := range categoryNames {
		slug := strings.ReplaceAll(strings.ToLower(name), " ", "-")
		if _, err := tx.ExecContext(ctx, `insert into "service_categories" ("name", "slug", "description", "sort_order", "is_active", "created_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?)`,
			name, slug, name+" products for private and business customers.", (i+1)*10, 1, ts, ts); err != nil {
			return nil, fmt.Errorf("filling service_categories: %w", err)
		}
	}
	cycles := []string{"monthly", "monthly", "monthly", "quarterly", "yearly", "one_time"}
	var pkgs []packageRow
	for c, cat := range categoryNames {
		for t, tier := range tiers {
			cents := int64(499 + 500*t + 100*rng.IntN(20))
			id := int64(len(pkgs) + 1)
			code := strings.ToUpper(strings.ReplaceAll(cat, " ", "-") + "-" + tier)
			if _, err := tx.ExecContext(ctx, `insert into "service_packages" ("category_id", "code", "name", "description", "price", "billing_cycle", "is_active", "created_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c+1, code, cat+" "+tier, "The "+tier+" tier of "+cat+".", float64(cents)/100, pick(rng, cycles), 1, ts, ts); err != nil {
				return nil, fmt.Errorf("filling service_packages: %w", err)
			}
			pkgs = append(pkgs, packageRow{id: id, cents: cents})
		}
	}
	return pkgs, nil
}

const (
	insertCustomer = `insert into "customers" ("id", "first_name", "last_name", "email", "phone", "company", "address_line1", "address_line2", "postal_code", "city", "country", "date_of_birth", "status", "credit_limit", "stripe_id", "pm_type", "pm_last_four", "notes", "locale", "marketing_opt_in", "email_verified_at", "last_login_at", "created_at", "updated_at", "deleted_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertService  = `insert into "customer_services" ("id", "contract_number", "customer_id", "package_id", "status", "price", "discount_percent", "started_at", "ends_at", "next_invoice_at", "auto_renew", "notes", "created_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertFamily   = `insert into "family_accounts" ("id", "name", "plan", "max_members", "billing_email", "created_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?)`
	insertMember   = `insert into "family_members" ("family_account_id", "customer_id", "role", "joined_at", "created_at", "updated_at") values (?, ?, ?, ?, ?, ?)`
)

// buildCustomers inserts n customers, created in id order between 2019
// and Epoch, each with three services created with or after it.
func buildCustomers(ctx context.Context, tx *sql.Tx, rng *rand.Rand, pkgs []packageRow, n int64) error {
	// The services' batch holds the services of exactly the customers'
	// batch and is written after it, so every foreign key finds its row.
	cst, sst := newBatch(ctx, tx, insertCustomer, batchRows), newBatch(ctx, tx, insertService, 3*batchRows)
	span := Epoch().Add(-24 * time.Hour).Sub(historyStart())
	for id := int64(1); id <= n; id++ {
		created := historyStart().Add(time.Duration(float64(span) * (float64(id) - rng.Float64()) / float64(n))).Truncate(time.Second)
		updated := created
		if rng.IntN(2) == 0 {
			updated = between(rng, created, Epoch().Add(-time.Hour))
		}
		if err := cst.add(customer(rng, id, created, updated)...); err != nil {
			return fmt.Errorf("filling customers (up to id %d): %w", id, err)
		}
		for k := range int64(3) {
			sc := between(rng, created, created.Add(time.Duration(k)*90*24*time.Hour))
			if sc.After(Epoch().Add(-time.Hour)) {
				sc = created
			}
			su := sc
			if rng.IntN(3) == 0 {
				su = between(rng, sc, Epoch().Add(-time.Hour))
			}
			if err := sst.add(service(rng, (id-1)*3+k+1, id, pick(rng, pkgs), sc, su)...); err != nil {
				return fmt.Errorf("filling customer_services (up to customer %d): %w", id, err)
			}
		}
	}
	if err := cst.flush(); err != nil {
		return fmt.Errorf("filling customers: %w", err)
	}
	if err := sst.flush(); err != nil {
		return fmt.Errorf("filling customer_services: %w", err)
	}
	return nil
}

// buildFamilies groups distinct customers into customers/10 family
// accounts of two to four members.
func buildFamilies(ctx context.Context, tx *sql.Tx, rng *rand.Rand, customers int64) error {
	type owner struct {
		last, email string
		created     time.Time
	}
	owners := make([]owner, customers+1)
	rows, err := tx.QueryContext(ctx, `select "id", "last_name", "email", +"created_at" from "customers" order by "id"`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			id      int64
			o       owner
			created string
		)
		if err := rows.Scan(&id, &o.last, &o.email, &created); err != nil {
			rows.Close()
			return err
		}
		if o.created, err = time.Parse(TimeLayout, created); err != nil {
			rows.Close()
			return fmt.Errorf("customer %d: created_at: %w", id, err)
		}
		if id <= customers {
			owners[id] = o
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Members go in after all accounts, so their foreign keys find them.
	fst := newBatch(ctx, tx, insertFamily, batchRows)
	var members [][]any
	perm := rng.Perm(int(customers))
	next := 0
	plans := []string{"duo", "family", "family", "family_plus"}
	for f := int64(1); f <= customers/10 && next+4 <= len(perm); f++ {
		plan := pick(rng, plans)
		maxMembers := map[string]int{"duo": 2, "family": 5, "family_plus": 8}[plan]
		size := min(2+rng.IntN(3), maxMembers)
		o := owners[perm[next]+1]
		created := between(rng, o.created, Epoch().Add(-time.Hour))
		ts := created.Format(TimeLayout)
		if err := fst.add(f, "Family "+o.last, plan, int64(maxMembers), o.email, ts, ts); err != nil {
			return fmt.Errorf("filling family_accounts (up to id %d): %w", f, err)
		}
		for m := range size {
			role := "owner"
			if m > 0 {
				role = pick(rng, []string{"adult", "child", "child"})
			}
			joined := between(rng, created, Epoch().Add(-time.Hour))
			members = append(members, []any{f, int64(perm[next] + 1), role, joined.Format(DateLayout), joined.Format(TimeLayout), joined.Format(TimeLayout)})
			next++
		}
	}
	if err := fst.flush(); err != nil {
		return fmt.Errorf("filling family_accounts: %w", err)
	}
	mst := newBatch(ctx, tx, insertMember, 3*batchRows)
	for _, m := range members {
		if err := mst.add(m...); err != nil {
			return fmt.Errorf("filling family_members: %w", err)
		}
	}
	if err := mst.flush(); err != nil {
		return fmt.Errorf("filling family_members: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
