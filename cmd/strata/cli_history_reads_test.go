package main

import (
	"context"
	"fmt"
	"testing"

	"strata/dbexport"
	"strata/dbexport/history"
	"strata/pack"
	"strata/repo"
)

// loadCounter counts what history loads of a repository.
type loadCounter struct {
	*repo.Repository
	blobs map[pack.ID]int
	trees int
}

func (lc *loadCounter) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	lc.blobs[id]++
	return lc.Repository.LoadBlob(ctx, id)
}

func (lc *loadCounter) LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error) {
	lc.trees++
	return lc.Repository.LoadTree(ctx, id)
}

// TestHistoryReadsOnlyWhatItNeeds: following a row that changes every
// hour, history decodes no snapshot's root tree whole (it reads the
// table's node out of it, repo.FindTreeNode) and loads no blob twice:
// the chunk holding the key, whose base stays while the change log's
// patch on it changes, is loaded once, not once per snapshot.
func TestHistoryReadsOnlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, exec := sqliteFile(t, "h.db")
	exec(`CREATE TABLE acct (id INTEGER PRIMARY KEY, email TEXT, note TEXT)`,
		`CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT)`,
		`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 20000)
		 INSERT INTO acct SELECT x, 'user' || x || '@example.com', hex(randomblob(20)) FROM n`,
		`INSERT INTO other VALUES (1, 'a')`)
	const hours = 6
	for h := 0; h < hours; h++ {
		if h > 0 {
			exec(fmt.Sprintf(`UPDATE acct SET email = 'hour%d@example.com' WHERE id = 10000`, h),
				fmt.Sprintf(`UPDATE other SET v = 'hour%d' WHERE id = 1`, h))
		}
		c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(h))
	}

	r := c.openAPI(repo.Options{})
	ctx := context.Background()
	sns, err := dbexport.SourceSnapshots(ctx, r, snapshotRequest("latest", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	lc := &loadCounter{Repository: r, blobs: map[pack.ID]int{}}
	rep, err := history.Row(ctx, lc, sns, history.Request{Table: "acct", Key: []string{"10000"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Events) != hours || rep.SnapshotsRead != hours {
		t.Fatalf("%d versions from %d snapshots read, want %d of each", len(rep.Events), rep.SnapshotsRead, hours)
	}
	if lc.trees != 0 {
		t.Errorf("history decoded %d trees whole, want none", lc.trees)
	}
	for id, n := range lc.blobs {
		if n != 1 {
			t.Errorf("history loaded blob %s %d times, want once", id.Short(), n)
		}
	}
	node, err := repo.LoadTreeNode(ctx, r, sns[len(sns)-1].Tree, "acct")
	if err != nil || node == nil || node.Log == nil {
		t.Fatalf("the last snapshot's acct: %+v, %v: want a node with a change log (the case tested)", node, err)
	}
}
