package postgres

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/dbexport"
)

// TestConsistency moves money between two tables in transactions while a
// Source with two connections exports them: the export of one table is
// held open until the writer has committed more transfers, and the other
// table is exported meanwhile on the second connection. Both must show
// the same point in time, so the balances add up to the invariant total.
func TestConsistency(t *testing.T) {
	t.Parallel()
	const accounts, start = 50, 1000
	d := newDB(t)
	execSQL(t, d,
		`CREATE TABLE public.checking (id integer PRIMARY KEY, bal bigint NOT NULL)`,
		`CREATE TABLE public.savings (id integer PRIMARY KEY, bal bigint NOT NULL)`,
		fmt.Sprintf(`INSERT INTO public.checking SELECT g, %d FROM generate_series(1, %d) g`, start, accounts),
		fmt.Sprintf(`INSERT INTO public.savings SELECT g, %d FROM generate_series(1, %d) g`, start, accounts))

	ctx, cancel := context.WithCancel(context.Background())
	var transfers atomic.Int64
	writer := make(chan error, 1)
	go func() { writer <- moveMoney(ctx, t, d, accounts, &transfers) }()
	defer func() {
		cancel()
		if err := <-writer; err != nil {
			t.Errorf("writer: %v", err)
		}
	}()
	waitFor := func(n int64) {
		deadline := time.Now().Add(10 * time.Second)
		for transfers.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("writer made only %d transfers", transfers.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}

	waitFor(20)
	src := openSource(t, d, Options{Jobs: 2})
	atOpen := transfers.Load()
	sch := readSchema(t, src)

	var checking, savings bytes.Buffer
	savingsDone := make(chan struct{})
	var g errgroup.Group
	g.Go(func() error {
		// Holds its connection until savings has been exported.
		_, err := src.CopyOut(ctx, sch.Table("public.checking"), &gatedWriter{w: &checking, gate: savingsDone})
		return err
	})
	g.Go(func() error {
		defer close(savingsDone)
		waitFor(atOpen + 50)
		_, err := src.CopyOut(ctx, sch.Table("public.savings"), &savings)
		return err
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if transfers.Load() < atOpen+50 {
		t.Fatalf("the writer did not run during the export")
	}
	total := sumBalances(t, &checking) + sumBalances(t, &savings)
	if total != 2*accounts*start {
		t.Errorf("exported balances add up to %d, want %d", total, 2*accounts*start)
	}

	// A restore of the snapshot holds the invariant too.
	dst := newDB(t)
	if err := restoreInto(t, dst, sch, tableData(src, sch), false); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT (SELECT sum(bal) FROM public.checking) + (SELECT sum(bal) FROM public.savings)`); n != 2*accounts*start {
		t.Errorf("restored balances add up to %d", n)
	}
}

// moveMoney transfers random amounts between checking and savings until
// ctx ends.
func moveMoney(ctx context.Context, t *testing.T, d dbexport.DSN, accounts int, transfers *atomic.Int64) error {
	conn := dial(t, d)
	defer conn.Close(context.Background())
	for ctx.Err() == nil {
		from, to := "checking", "savings"
		if rand.IntN(2) == 0 {
			from, to = to, from
		}
		x := 1 + rand.IntN(100)
		tx, err := conn.Begin(ctx)
		if err != nil {
			break
		}
		_, err = tx.Exec(ctx, "UPDATE public."+from+" SET bal = bal - $1 WHERE id = $2", x, 1+rand.IntN(accounts))
		if err == nil {
			_, err = tx.Exec(ctx, "UPDATE public."+to+" SET bal = bal + $1 WHERE id = $2", x, 1+rand.IntN(accounts))
		}
		if err == nil {
			err = tx.Commit(ctx)
		}
		if err != nil {
			tx.Rollback(context.Background())
			if ctx.Err() != nil {
				break
			}
			return err
		}
		transfers.Add(1)
	}
	return nil
}

// gatedWriter blocks its first write until gate is closed.
type gatedWriter struct {
	w    io.Writer
	gate chan struct{}
	once sync.Once
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.once.Do(func() { <-g.gate })
	return g.w.Write(p)
}

func sumBalances(t *testing.T, r io.Reader) int64 {
	t.Helper()
	var sum int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("row %q: %v", sc.Text(), err)
		}
		sum += n
	}
	return sum
}

// TestSnapshotLocksTables: while a Source is open, TRUNCATE (which is not
// MVCC-safe and would empty the table under the snapshot) has to wait,
// and ordinary writes do not.
func TestSnapshotLocksTables(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	execSQL(t, d, `CREATE TABLE public.t (id integer PRIMARY KEY)`, `INSERT INTO public.t VALUES (1), (2)`)
	src := openSource(t, d, Options{Jobs: 2})
	conn := dial(t, d)
	defer conn.Close(context.Background())
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO public.t VALUES (3)`); err != nil {
		t.Fatalf("insert during the snapshot: %v", err)
	}
	if _, err := conn.Exec(ctx, `SET lock_timeout = '200ms'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `TRUNCATE public.t`); err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("TRUNCATE during the snapshot: %v", err)
	}
	sch := readSchema(t, src)
	if got := string(copyOut(t, src, sch.Tables[0])); got != "1\n2\n" || sch.Tables[0].Rows != 2 {
		t.Errorf("snapshot shows %q (%d rows), want rows 1 and 2", got, sch.Tables[0].Rows)
	}
	src.Close()
	if _, err := conn.Exec(ctx, `TRUNCATE public.t`); err != nil {
		t.Errorf("TRUNCATE after Close: %v", err)
	}
}
