package audit_test

import (
	"context"
	"testing"
	"time"

	"strata/repo/audit"
	"strata/repo/backend/local"
	"strata/repo/crypto"
)

// benchTrail is a trail of n records on the local backend, every tenth a
// check.
func benchTrail(b *testing.B, n int) *audit.Log {
	b.Helper()
	be, err := local.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	key, err := crypto.NewRandomKey()
	if err != nil {
		b.Fatal(err)
	}
	l := audit.New(be, key)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		cmd := "backup"
		if i%10 == 9 {
			cmd = "check"
		}
		rec := &audit.Record{Time: t0.Add(time.Duration(i) * time.Hour), Host: "db1", Command: cmd,
			Args: []string{cmd, "--db", "postgres://app:***@db1/shop", "--tier", "hourly"}, Result: audit.Result{OK: true}, Program: "strata bench"}
		if _, err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkAppend: one record appended to a trail of 1,000 (a listing of
// the folder and one write, as every recorded command pays).
func BenchmarkAppend(b *testing.B) {
	l := benchTrail(b, 1000)
	rec := audit.Record{Time: time.Now(), Host: "db1", Command: "backup", Args: []string{"backup"}, Result: audit.Result{OK: true}, Program: "strata bench"}
	b.ResetTimer()
	for b.Loop() {
		r := rec
		if _, err := l.Append(context.Background(), &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLatestCheck: the newest check of a trail of 1,000 records.
func BenchmarkLatestCheck(b *testing.B) {
	l := benchTrail(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		if rec, err := l.Latest(context.Background(), "check"); err != nil || rec == nil {
			b.Fatal(rec, err)
		}
	}
}

// BenchmarkVerify: check's verification of a trail of 1,000 records.
func BenchmarkVerify(b *testing.B) {
	l := benchTrail(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		v, err := l.Verify(context.Background(), 0)
		if err != nil || v.Records != 1000 {
			b.Fatal(v, err)
		}
	}
}
