package workflow_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"strata/repo/repotest"
	"strata/workflow"
)

func TestDrillSQLite(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	path := newSQLite(t,
		"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
		"CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), total INTEGER CHECK (total >= 0))",
		"INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')",
		"INSERT INTO orders VALUES (10, 1, 5), (11, 2, 7), (12, 2, 0)",
	)
	if _, err := workflow.Backup(ctx, r, workflow.BackupRequest{Database: &workflow.DatabaseSource{DSN: "sqlite://" + path}}); err != nil {
		t.Fatal(err)
	}

	rep, err := workflow.Drill(ctx, r, workflow.DrillRequest{Snapshot: "latest", SameEngine: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Snapshot == nil || rep.Report.Snapshot != rep.Snapshot.ID.String() || len(rep.Report.Tables) != 2 || !rep.Report.SameEngine {
		t.Fatalf("drill: ok %v, report %+v", rep.OK, rep.Report)
	}
	for _, td := range rep.Report.Tables {
		if td.RestoredRows != td.SnapshotRows || td.RestoredHash != td.SnapshotHash {
			t.Errorf("table %s: %d of %d rows restored, hash %s against %s", td.Table, td.RestoredRows, td.SnapshotRows, td.RestoredHash, td.SnapshotHash)
		}
	}
	if rep.KeptPath != "" {
		t.Errorf("KeptPath %q without Keep", rep.KeptPath)
	}

	kept, err := workflow.Drill(ctx, r, workflow.DrillRequest{Snapshot: "latest", Keep: true, Tables: []string{"customers"}})
	if err != nil {
		t.Fatal(err)
	}
	if !kept.OK || len(kept.Report.Tables) != 1 || kept.KeptPath == "" {
		t.Fatalf("drill of customers, kept: ok %v, %d tables, kept %q, error %q", kept.OK, len(kept.Report.Tables), kept.KeptPath, kept.Report.Error)
	}
	if _, err := os.Stat(kept.KeptPath); err != nil {
		t.Errorf("kept scratch file: %v", err)
	}
	os.RemoveAll(filepath.Dir(kept.KeptPath))

	if _, err := workflow.Drill(ctx, r, workflow.DrillRequest{Snapshot: "latest", Target: "sqlite:///tmp/x.db"}); err == nil {
		t.Error("drill with a SQLite --target succeeded")
	}
	miss, err := workflow.Drill(ctx, r, workflow.DrillRequest{Snapshot: "ffffffff"})
	if err == nil || miss.Snapshot != nil {
		t.Errorf("drill of a missing snapshot: %v, snapshot %v", err, miss.Snapshot)
	}
}
