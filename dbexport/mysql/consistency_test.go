package mysql

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"strata/dbexport"
)

// TestConsistentSnapshot exports two InnoDB tables while a writer moves
// money between accounts and logs each transfer, in transactions. The
// export must hold the invariant total, and each balance must match the
// exported transfer log: both tables are read at one point in time.
func TestConsistentSnapshot(t *testing.T) {
	const accounts, start = 200, 1000
	d := newDatabase(t)
	db := testDB(t, d)
	execAll(t, db,
		`CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL) ENGINE=InnoDB`,
		`CREATE TABLE transfers (id bigint AUTO_INCREMENT PRIMARY KEY, src int NOT NULL, dst int NOT NULL, amount bigint NOT NULL) ENGINE=InnoDB`,
		fmt.Sprintf(`INSERT INTO accounts WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) SELECT i, %d FROM n`, accounts, start),
	)

	ctx, cancel := context.WithCancel(context.Background())
	var commits atomic.Int64
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for ctx.Err() == nil {
			src, dst := 1+r.IntN(accounts), 1+r.IntN(accounts)
			amount := 1 + r.Int64N(50)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				break
			}
			_, err = tx.ExecContext(ctx, `UPDATE accounts SET balance = balance - ? WHERE id = ?`, amount, src)
			if err == nil {
				_, err = tx.ExecContext(ctx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, amount, dst)
			}
			if err == nil {
				_, err = tx.ExecContext(ctx, `INSERT INTO transfers (src, dst, amount) VALUES (?, ?, ?)`, src, dst, amount)
			}
			if err == nil {
				err = tx.Commit()
			} else {
				tx.Rollback()
			}
			if err != nil {
				if ctx.Err() == nil {
					writeErr = err
				}
				return
			}
			commits.Add(1)
		}
	}()
	waitFor := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for commits.Load() < n {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("writer made %d transfers, waiting for %d", commits.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	waitFor(50)
	// Transfers counted before Open are committed before its snapshot;
	// one counted after Open may have committed before the snapshot too.
	beforeOpen := commits.Load()
	src, err := Open(ctx, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	atOpen := commits.Load()
	waitFor(atOpen + 50) // the snapshot must not see these
	sc, err := src.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{}
	for _, name := range []string{"accounts", "transfers"} {
		var buf bytes.Buffer
		if _, err := src.CopyOut(ctx, sc.Table(name), &buf); err != nil {
			t.Fatal(err)
		}
		data[name] = buf.Bytes()
		waitFor(commits.Load() + 50) // and the writer keeps going between tables
	}
	cancel()
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("writer: %v", writeErr)
	}

	balance := map[int64]int64{}
	var total int64
	for _, row := range parseRows(t, data["accounts"]) {
		balance[row[0]] = row[1]
		total += row[1]
	}
	if total != accounts*start {
		t.Errorf("exported balances sum to %d, want %d", total, accounts*start)
	}
	logged := map[int64]int64{}
	transfers := parseRows(t, data["transfers"])
	for _, row := range transfers {
		logged[row[1]] -= row[3]
		logged[row[2]] += row[3]
	}
	for id, b := range balance {
		if b != start+logged[id] {
			t.Errorf("account %d: exported balance %d, the exported transfers give %d", id, b, start+logged[id])
		}
	}
	if n := int64(len(transfers)); n < beforeOpen || n >= commits.Load() {
		t.Errorf("exported %d transfers: %d were committed before Open, %d at the end", n, beforeOpen, commits.Load())
	}

	// The restored copy holds the same invariant.
	dst := newDatabase(t)
	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := testDB(t, dst).QueryRow(`SELECT SUM(balance) FROM accounts`).Scan(&sum); err != nil || sum != accounts*start {
		t.Errorf("restored balances sum to %d (%v), want %d", sum, err, accounts*start)
	}
}

// parseRows parses COPY text of integer columns.
func parseRows(t *testing.T, data []byte) [][]int64 {
	t.Helper()
	var out [][]int64
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'}) {
		var row []int64
		for _, f := range dbexport.SplitRow(line) {
			n, err := strconv.ParseInt(string(f), 10, 64)
			if err != nil {
				t.Fatalf("row %q: %v", line, err)
			}
			row = append(row, n)
		}
		out = append(out, row)
	}
	return out
}
