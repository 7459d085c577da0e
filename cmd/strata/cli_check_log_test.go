package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
)

// TestCheckLogAgainstBase: a change log that decrypts and decodes but does
// not fit its base (docs/design.md, "Table change logs"), as a faulty
// writer could store it, is found by check, which names the snapshot and
// the table; repair snapshots --forget, as check advises, cuts the table's
// rows out of that snapshot, and every other snapshot restores as before.
func TestCheckLogAgainstBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bend func(lg *repo.TableLog) // makes lg not fit its base; nil: a byte after its end
		want string                  // in check's message
	}{
		{"row past the chunk", func(lg *repo.TableLog) {
			ops := lg.Runs[len(lg.Runs)-1].Ops
			ops[len(ops)-1].Row += 1_000_000
		}, "which has"},
		{"totals", func(lg *repo.TableLog) { lg.BaseRows++ }, "it is of a base of"},
		{"undecodable", nil, "bytes after the last run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.ok("init")
			path := filepath.Join(t.TempDir(), "app.db")
			db := openSQLite(t, path)
			execAll(t, db,
				`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)`,
				`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 20000)
				 INSERT INTO items SELECT i, 'item-' || i, 'a note of some length for item ' || i FROM s`)
			c.ok("backup", "--db", "sqlite://"+path, "--time", "2026-01-01 10:00:00")
			execAll(t, db, `UPDATE items SET name = 'changed-' || id WHERE id % 500 = 0`,
				`INSERT INTO items VALUES (20001, 'new', NULL)`)
			c.ok("backup", "--db", "sqlite://"+path, "--time", "2026-01-01 11:00:00")
			good := c.snapshots()

			bad := c.saveBentLog(tc.bend)
			out, cmds := c.checkAdvice()
			for _, want := range []string{"change log", "of table /items", bad[:8], tc.want, "cannot restore that table"} {
				if !strings.Contains(out, want) {
					t.Errorf("check does not say %q:\n%s", want, out)
				}
			}
			jsonOut, _ := c.code(exitCheckFailed, "check", "--json")
			var rep struct {
				Findings []struct {
					Kind   string
					Detail struct{ Snapshot, Path string }
				}
			}
			if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil || len(rep.Findings) != 1 ||
				rep.Findings[0].Kind != "DamagedLog" || rep.Findings[0].Detail.Snapshot != bad || rep.Findings[0].Detail.Path != "/items" {
				t.Errorf("check --json findings: %s", jsonOut)
			}
			if strings.Join(cmds, "|") != "strata repair snapshots --forget|strata backup" {
				t.Errorf("check --json what_to_do: %q", cmds)
			}
			restoreInto := func(snapshot string) (int, error) {
				p := filepath.Join(t.TempDir(), "r.db")
				if _, errOut, code := c.run("restore", snapshot, "--db", "sqlite://"+p); code != 0 {
					return 0, errors.New(errOut)
				}
				var n int
				err := openSQLite(t, p).QueryRow(`SELECT count(*) FROM items`).Scan(&n)
				return n, err
			}
			if _, err := restoreInto(bad); err == nil {
				t.Errorf("snapshot %s with the bent log restored", bad[:8])
			}

			c.ok("repair", "snapshots", "--forget")
			c.check()
			for i, want := range []int{20000, 20001} {
				if n, err := restoreInto(good[i].ID); err != nil || n != want {
					t.Errorf("snapshot %s after the repair: %d rows, %v; want %d", good[i].ID[:8], n, err, want)
				}
			}
		})
	}
}

// saveBentLog stores a new snapshot whose table items has the latest
// snapshot's base and a copy of its change log that bend changed, stored
// as a valid blob (so only its content is wrong), and returns the new
// snapshot's ID. A nil bend appends a byte to the log instead, which then
// does not decode.
func (c *tcli) saveBentLog(bend func(lg *repo.TableLog)) string {
	c.t.Helper()
	ctx := context.Background()
	r := c.openAPI(repo.Options{TempDir: c.t.TempDir()})
	sn, err := r.FindSnapshot(ctx, "latest")
	if err != nil {
		c.t.Fatal(err)
	}
	tree, err := r.LoadTree(ctx, sn.Tree)
	if err != nil {
		c.t.Fatal(err)
	}
	var node *repo.Node
	for i := range tree.Nodes {
		if tree.Nodes[i].Name == "items" {
			node = &tree.Nodes[i]
		}
	}
	if node == nil || node.Log == nil {
		c.t.Fatalf("the latest snapshot's table items has no change log: %+v", node)
	}
	lg, err := repo.LoadLog(ctx, r, *node.Log)
	if err != nil {
		c.t.Fatal(err)
	}
	if bend != nil {
		bend(lg)
	}
	plain, err := repo.EncodeLog(lg)
	if err != nil {
		c.t.Fatal(err)
	}
	if bend == nil {
		plain = append(plain, 0)
	}
	res, err := r.SaveBlob(ctx, pack.DataBlob, plain, pack.ID{})
	if err != nil {
		c.t.Fatal(err)
	}
	node.Log = &res.ID
	if err := r.Flush(ctx); err != nil {
		c.t.Fatal(err)
	}
	root, err := r.SaveTree(ctx, tree)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		c.t.Fatal(err)
	}
	bent := *sn
	bent.ID, bent.Tree, bent.Parent = pack.ID{}, root, &sn.ID
	bent.Time = sn.Time.Add(time.Hour)
	if err := r.SaveSnapshot(ctx, &bent); err != nil {
		c.t.Fatal(err)
	}
	return bent.ID.String()
}
