package postgres

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
	"strata/internal/dbtest"
)

const defaultTestServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// testServer returns the DSN of the test server's maintenance database:
// STRATA_TEST_POSTGRES, or the local server. When the server cannot be
// reached the test fails under CI=true and is skipped elsewhere.
func testServer(t testing.TB) dbexport.DSN {
	t.Helper()
	s := os.Getenv("STRATA_TEST_POSTGRES")
	if s == "" {
		s = defaultTestServer
	}
	d, err := dbexport.ParseDSN(s)
	if err != nil {
		t.Fatalf("STRATA_TEST_POSTGRES: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := connect(ctx, d, Options{})
	if err != nil {
		msg := "PostgreSQL test server not reachable at " + d.String() + ": " + err.Error() +
			" (set STRATA_TEST_POSTGRES, or start the local server: pg_ctlcluster --skip-systemctl-redirect 15 main start)"
		dbtest.Unreachable(t, msg)
	}
	conn.Close(ctx)
	return d
}

// newDB creates a database with a random name, dropped when the test
// ends, and returns its DSN.
func newDB(t testing.TB) dbexport.DSN {
	t.Helper()
	return dbtest.TempDatabase(t, testServer(t), CreateDatabase, DropDatabase)
}

// execSQL runs statements on d, outside of any snapshot.
func execSQL(t testing.TB, d dbexport.DSN, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn := dial(t, d)
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// dial opens a plain connection with the server's default settings.
func dial(t testing.TB, d dbexport.DSN) *pgx.Conn {
	t.Helper()
	cfg, _, err := connConfig(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func queryInt(t testing.TB, d dbexport.DSN, sql string) int64 {
	t.Helper()
	conn := dial(t, d)
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func openSource(t testing.TB, d dbexport.DSN, opts Options) *Source {
	t.Helper()
	src, err := Open(context.Background(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func readSchema(t testing.TB, src *Source) *dbexport.Schema {
	t.Helper()
	sch, err := src.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func copyOut(t testing.TB, src *Source, tab *dbexport.Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := src.CopyOut(context.Background(), tab, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if lines := int64(bytes.Count(buf.Bytes(), []byte{'\n'})); lines != n {
		t.Fatalf("%s: CopyOut counted %d rows, wrote %d lines", tab.QualifiedName(), n, lines)
	}
	return buf.Bytes()
}

// exportAll returns every table's COPY text by qualified name.
func exportAll(t testing.TB, d dbexport.DSN) (*dbexport.Schema, map[string][]byte) {
	t.Helper()
	src := openSource(t, d, Options{})
	sch := readSchema(t, src)
	out := map[string][]byte{}
	for _, tab := range sch.Tables {
		out[tab.QualifiedName()] = copyOut(t, src, tab)
	}
	return sch, out
}

// tableData streams every table of sch from src.
func tableData(src *Source, sch *dbexport.Schema) []dbexport.TableData {
	var tds []dbexport.TableData
	for _, tab := range sch.Tables {
		tds = append(tds, dbexport.TableData{Table: tab, Rows: func(ctx context.Context, w io.Writer) error {
			_, err := src.CopyOut(ctx, tab, w)
			return err
		}})
	}
	return tds
}

func restoreInto(t testing.TB, d dbexport.DSN, sch *dbexport.Schema, tds []dbexport.TableData, replace bool) error {
	t.Helper()
	tgt, err := OpenTarget(context.Background(), d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	return tgt.Restore(context.Background(), sch, tds, replace)
}
