// Package dbtest holds what the database engines' tests share: how an
// unreachable test server is reported, and throwaway databases.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"strata/dbexport"
)

// Unreachable reports a test server that does not answer: a failure when
// CI=true (CI must run every test), a skip with the message elsewhere.
func Unreachable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TempDatabase creates a database with a random name on server with
// create, drops it with drop when the test ends, and returns its DSN.
func TempDatabase(t testing.TB, server dbexport.DSN, create, drop func(context.Context, dbexport.DSN, string) error) dbexport.DSN {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "strata_test_" + hex.EncodeToString(b[:])
	if err := create(context.Background(), server, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(context.Background(), server, name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	d := server
	d.Database = name
	return d
}
