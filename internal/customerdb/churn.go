package customerdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Op is what happened to a row.
type Op int

// Ops.
const (
	Insert Op = iota + 1
	Update
	Delete
)

func (o Op) String() string {
	switch o {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Change is one row an hour of churn inserted, updated or deleted.
type Change struct {
	Table string
	ID    int64
	Op    Op
}

// Churn applies simulated hour h (h >= 1) of business in one transaction
// and returns the rows it changed, each once with its net effect, ordered
// by table and id. rate is the share of rows touched: with n = rate ×
// customers and m = rate × customer_services, the hour updates 4n/5
// customers and 3m/4 services (70% of them among the newest 10% of rows,
// 30% anywhere; each update sets updated_at and one of status, price,
// notes and similar fields), signs up n/5 new customers with three
// services each (one in ten joins a family account), and deletes m/20
// services. The same h gives the same changes on the same database.
func Churn(ctx context.Context, db *sql.DB, h int, rate float64) ([]Change, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(h)))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c := &churn{ctx: ctx, tx: tx, rng: rng, changes: map[tableID]Op{}}
	c.start = HourTime(h - 1)
	var customers, services int64
	if err := tx.QueryRowContext(ctx, `select count(*) from "customers"`).Scan(&customers); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `select count(*) from "customer_services"`).Scan(&services); err != nil {
		return nil, err
	}
	n := int(math.Round(rate * float64(customers)))
	m := int(math.Round(rate * float64(services)))
	steps := []struct {
		name string
		run  func(int) error
		k    int
	}{
		{"updating customers", c.updateCustomers, n * 4 / 5},
		{"updating customer_services", c.updateServices, m * 3 / 4},
		{"adding customers", c.addCustomers, n - n*4/5},
		{"deleting customer_services", c.deleteServices, max(m/20, min(m, 1))},
	}
	c.ops = 0
	for _, s := range steps {
		c.ops += s.k
	}
	for _, s := range steps {
		if err := s.run(s.k); err != nil {
			return nil, fmt.Errorf("hour %d: %s: %w", h, s.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	out := make([]Change, 0, len(c.changes))
	for k, op := range c.changes {
		out = append(out, Change{Table: k.table, ID: k.id, Op: op})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

type tableID struct {
	table string
	id    int64
}

type churn struct {
	ctx     context.Context
	tx      *sql.Tx
	rng     *rand.Rand
	start   time.Time
	ops     int // operations this hour, to spread their times over it
	done    int
	changes map[tableID]Op
}

// now is the simulated time of the next operation.
func (c *churn) now() string {
	c.done++
	t := c.start.Add(time.Duration(c.done) * time.Hour / time.Duration(c.ops+1)).Truncate(time.Second)
	return t.Format(TimeLayout)
}

func (c *churn) record(table string, id int64, op Op) {
	k := tableID{table, id}
	switch prev, ok := c.changes[k]; {
	case !ok:
		c.changes[k] = op
	case prev == Insert && op == Delete:
		delete(c.changes, k)
	case op == Delete:
		c.changes[k] = Delete
	}
}

// pickRows returns k distinct existing ids of table: 70% drawn from the
// newest 10% of the id range, 30% from all of it.
func (c *churn) pickRows(table string, k int) ([]int64, error) {
	var lo, hi int64
	if err := c.tx.QueryRowContext(c.ctx, fmt.Sprintf(`select coalesce(min("id"), 0), coalesce(max("id"), 0) from %q`, table)).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	if hi == 0 {
		return nil, nil
	}
	st, err := c.tx.PrepareContext(c.ctx, fmt.Sprintf(`select "id" from %q where "id" >= ? order by "id" limit 1`, table))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	newest := hi - (hi-lo)/10
	seen := map[int64]bool{}
	var ids []int64
	for tries := 0; len(ids) < k && tries < 20*k; tries++ {
		from := lo
		if c.rng.IntN(10) < 7 {
			from = newest
		}
		var id int64
		if err := st.QueryRowContext(c.ctx, from+c.rng.Int64N(hi-from+1)).Scan(&id); err != nil {
			return nil, err
		}
		if !seen[id] && c.changes[tableID{table, id}] == 0 {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (c *churn) updateCustomers(k int) error {
	ids, err := c.pickRows("customers", k)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var q string
		var v any
		switch c.rng.IntN(4) {
		case 0:
			q, v = `update "customers" set "status" = ?, "updated_at" = ? where "id" = ?`, pick(c.rng, []string{"active", "active", "suspended", "cancelled"})
		case 1:
			q, v = `update "customers" set "notes" = ?, "updated_at" = ? where "id" = ?`, note(c.rng)
		case 2:
			q, v = `update "customers" set "credit_limit" = ?, "updated_at" = ? where "id" = ?`, int64(c.rng.IntN(41)*250)
		default:
			// A new mobile number, same country prefix.
			q, v = `update "customers" set "phone" = coalesce(substr("phone", 1, instr("phone", ' ')), '+49 ') || ?, "updated_at" = ? where "id" = ?`, fmt.Sprint(150+c.rng.IntN(30))+" "+digits(c.rng, 8)
		}
		if _, err := c.tx.ExecContext(c.ctx, q, v, c.now(), id); err != nil {
			return fmt.Errorf("customer %d: %w", id, err)
		}
		c.record("customers", id, Update)
	}
	return nil
}

func (c *churn) updateServices(k int) error {
	ids, err := c.pickRows("customer_services", k)
	if err != nil {
		return err
	}
	for _, id := range ids {
		now := c.now()
		var err error
		switch c.rng.IntN(4) {
		case 0:
			status := pick(c.rng, []string{"active", "suspended", "cancelled"})
			if status == "cancelled" {
				_, err = c.tx.ExecContext(c.ctx, `update "customer_services" set "status" = 'cancelled', "ends_at" = ?, "next_invoice_at" = null, "updated_at" = ? where "id" = ?`, now[:10], now, id)
			} else {
				_, err = c.tx.ExecContext(c.ctx, `update "customer_services" set "status" = ?, "updated_at" = ? where "id" = ?`, status, now, id)
			}
		case 1:
			_, err = c.tx.ExecContext(c.ctx, `update "customer_services" set "price" = round("price" * ?, 2), "updated_at" = ? where "id" = ?`, 0.9+0.2*c.rng.Float64(), now, id)
		case 2:
			_, err = c.tx.ExecContext(c.ctx, `update "customer_services" set "next_invoice_at" = date(coalesce("next_invoice_at", ?), '+1 month'), "updated_at" = ? where "id" = ?`, now[:10], now, id)
		default:
			_, err = c.tx.ExecContext(c.ctx, `update "customer_services" set "notes" = ?, "updated_at" = ? where "id" = ?`, pick(c.rng, noteLines), now, id)
		}
		if err != nil {
			return fmt.Errorf("customer_services %d: %w", id, err)
		}
		c.record("customer_services", id, Update)
	}
	return nil
}

// addCustomers signs up k customers with three services each; one in ten
// joins a random family account that has room.
func (c *churn) addCustomers(k int) error {
	var pkgs []packageRow
	rows, err := c.tx.QueryContext(c.ctx, `select "id", cast(round("price" * 100) as integer) from "service_packages" where "is_active" = 1 order by "id"`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var p packageRow
		if err := rows.Scan(&p.id, &p.cents); err != nil {
			rows.Close()
			return err
		}
		pkgs = append(pkgs, p)
	}
	rows.Close()
	if len(pkgs) == 0 {
		return fmt.Errorf("no active service package")
	}
	var families int64
	if err := c.tx.QueryRowContext(c.ctx, `select coalesce(max("id"), 0) from "family_accounts"`).Scan(&families); err != nil {
		return err
	}
	// A new row's id goes into its e-mail address or contract number, so
	// take it from sqlite_sequence as AUTOINCREMENT would.
	var last, lastService int64
	if err := c.tx.QueryRowContext(c.ctx, `select coalesce((select "seq" from "sqlite_sequence" where "name" = 'customers'), 0), coalesce((select "seq" from "sqlite_sequence" where "name" = 'customer_services'), 0)`).Scan(&last, &lastService); err != nil {
		return err
	}
	for range k {
		ts, err := time.Parse(TimeLayout, c.now())
		if err != nil {
			return err
		}
		last++
		id := last
		if _, err := c.tx.ExecContext(c.ctx, insertCustomer, customer(c.rng, id, ts, ts)...); err != nil {
			return fmt.Errorf("customer %d: %w", id, err)
		}
		c.record("customers", id, Insert)
		for range 3 {
			lastService++
			sid := lastService
			vals := service(c.rng, sid, id, pick(c.rng, pkgs), ts, ts)
			// A new contract: pending, no end, first invoice in a month.
			vals[4], vals[8], vals[9] = "pending", nil, ts.AddDate(0, 1, 0).Format(DateLayout)
			if _, err := c.tx.ExecContext(c.ctx, insertService, vals...); err != nil {
				return fmt.Errorf("customer_services %d: %w", sid, err)
			}
			c.record("customer_services", sid, Insert)
		}
		if families > 0 && c.rng.IntN(10) == 0 {
			f := 1 + c.rng.Int64N(families)
			res, err := c.tx.ExecContext(c.ctx, `insert into "family_members" ("family_account_id", "customer_id", "role", "joined_at", "created_at", "updated_at")
				select ?, ?, ?, ?, ?, ? where (select count(*) from "family_members" where "family_account_id" = ?) < (select "max_members" from "family_accounts" where "id" = ?)`,
				f, id, pick(c.rng, []string{"adult", "child"}), ts.Format(DateLayout), ts.Format(TimeLayout), ts.Format(TimeLayout), f, f)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				mid, err := res.LastInsertId()
				if err != nil {
					return err
				}
				c.record("family_members", mid, Insert)
				if _, err := c.tx.ExecContext(c.ctx, `update "family_accounts" set "updated_at" = ? where "id" = ?`, ts.Format(TimeLayout), f); err != nil {
					return err
				}
				c.record("family_accounts", f, Update)
			}
		}
	}
	return nil
}

// deleteServices deletes k services anywhere (a cancelled contract's row
// removed by a clean-up job), never one this hour already touched.
func (c *churn) deleteServices(k int) error {
	var lo, hi int64
	if err := c.tx.QueryRowContext(c.ctx, `select coalesce(min("id"), 0), coalesce(max("id"), 0) from "customer_services"`).Scan(&lo, &hi); err != nil || hi == 0 {
		return err
	}
	for tries := 0; k > 0 && tries < 20; tries++ {
		var id int64
		err := c.tx.QueryRowContext(c.ctx, `select "id" from "customer_services" where "id" >= ? order by "id" limit 1`, lo+c.rng.Int64N(hi-lo+1)).Scan(&id)
		if err != nil {
			return err
		}
		if c.changes[tableID{"customer_services", id}] != 0 {
			continue
		}
		if _, err := c.tx.ExecContext(c.ctx, `delete from "customer_services" where "id" = ?`, id); err != nil {
			return fmt.Errorf("customer_services %d: %w", id, err)
		}
		c.now()
		c.record("customer_services", id, Delete)
		k--
		tries = 0
	}
	return nil
}
