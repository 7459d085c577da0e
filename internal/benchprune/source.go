package main

import (
	"context"
	"io"

	"strata/dbexport"
)

// tableName is the one table of the synthetic database.
const tableName = "customers"

// source is a dbexport.Source over the table as it is in one hour: what
// an engine's export would hand the backup, without the database.
type source struct{ t *table }

func (s source) Schema(context.Context) (*dbexport.Schema, error) {
	col := func(name, typ, kind string) dbexport.Column {
		return dbexport.Column{Name: name, Type: typ, NotNull: true, Kind: kind}
	}
	return &dbexport.Schema{
		Engine: dbexport.EngineSQLite, ServerVersion: "benchprune", Database: "main",
		Tables: []*dbexport.Table{{
			Name: tableName,
			Columns: []dbexport.Column{
				col("id", "INTEGER", dbexport.KindInt), col("first_name", "TEXT", dbexport.KindText),
				col("last_name", "TEXT", dbexport.KindText), col("email", "TEXT", dbexport.KindText),
				col("phone", "TEXT", dbexport.KindText), col("street", "TEXT", dbexport.KindText),
				col("city", "TEXT", dbexport.KindText), col("status", "TEXT", dbexport.KindText),
				col("plan", "TEXT", dbexport.KindText), col("balance", "NUMERIC", dbexport.KindNumeric),
				col("created_at", "TEXT", dbexport.KindTimestamp), col("updated_at", "TEXT", dbexport.KindTimestamp),
			},
			PrimaryKey: []string{"id"},
			DDL: `CREATE TABLE "customers" ("id" INTEGER PRIMARY KEY, "first_name" TEXT NOT NULL, "last_name" TEXT NOT NULL, ` +
				`"email" TEXT NOT NULL, "phone" TEXT NOT NULL, "street" TEXT NOT NULL, "city" TEXT NOT NULL, "status" TEXT NOT NULL, ` +
				`"plan" TEXT NOT NULL, "balance" NUMERIC NOT NULL, "created_at" TEXT NOT NULL, "updated_at" TEXT NOT NULL)`,
			Consistent: true,
		}},
	}, nil
}

// CopyOut writes the text in pieces of 256 KiB, as an engine writes rows
// as it reads them, and stops when the backup is cancelled.
func (s source) CopyOut(ctx context.Context, _ *dbexport.Table, w io.Writer) (int64, error) {
	const piece = 256 << 10
	for b := s.t.buf; len(b) > 0; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := min(piece, len(b))
		if _, err := w.Write(b[:n]); err != nil {
			return 0, err
		}
		b = b[n:]
	}
	return int64(len(s.t.ids)), nil
}

func (s source) Close() error { return nil }
