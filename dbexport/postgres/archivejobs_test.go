package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"strata/dbexport"
)

// shopArchive is the shape of the archive of make bench-restore's shop
// database: three tables, their keys, three indexes and two foreign keys,
// with the dependencies pg_dump 15 records.
func shopArchive() *archiveRestore {
	tab := func(name string, rows int64) dbexport.TableData {
		return dbexport.TableData{Table: &dbexport.Table{Schema: "public", Name: name, Rows: rows}}
	}
	return &archiveRestore{
		tables: []dbexport.TableData{tab("customers", 300), tab("order_lines", 1000), tab("orders", 700)},
		r: &rendered{
			pre: []tocEntry{
				{id: 214, kind: "TABLE", schema: "public", name: "customers", sql: "x"},
				{id: 216, kind: "TABLE", schema: "public", name: "order_lines", sql: "x"},
				{id: 215, kind: "TABLE", schema: "public", name: "orders", sql: "x"},
			},
			post: []tocEntry{
				{id: 3208, deps: []int{214}, kind: "CONSTRAINT", name: "customers customers_email_key", sql: "x"},
				{id: 3210, deps: []int{214}, kind: "CONSTRAINT", name: "customers customers_pkey", sql: "x"},
				{id: 3216, deps: []int{216, 216}, kind: "CONSTRAINT", name: "order_lines order_lines_pkey", sql: "x"},
				{id: 3214, deps: []int{215}, kind: "CONSTRAINT", name: "orders orders_pkey", sql: "x"},
				{id: 3217, deps: []int{216}, kind: "INDEX", name: "order_lines_product", sql: "x"},
				{id: 3211, deps: []int{215}, kind: "INDEX", name: "orders_customer", sql: "x"},
				{id: 3212, deps: []int{215}, kind: "INDEX", name: "orders_ordered_at", sql: "x"},
				{id: 3219, deps: []int{3214, 215, 216}, kind: "FK CONSTRAINT", name: "order_lines order_lines_order_id_fkey", sql: "x"},
				{id: 3218, deps: []int{3210, 214, 215}, kind: "FK CONSTRAINT", name: "orders orders_customer_id_fkey", sql: "x"},
			},
		},
	}
}

// TestArchiveJobsSchedule: the jobs of a parallel restore run as
// pg_restore -j runs them: the largest tables first, a table's keys and
// indexes as soon as its rows are in (not after every table's), never
// before a job they depend on, never an ALTER TABLE beside another job
// on the same table, and never with a connection idle while a job could
// start.
func TestArchiveJobsSchedule(t *testing.T) {
	a := shopArchive()
	jobs, err := a.archiveJobs()
	if err != nil {
		t.Fatal(err)
	}
	// No timing decides the test: the load of order_lines, the largest
	// table, ends only once a post-data entry has started (or after a
	// minute, failing): a restore that ran the post-data entries after
	// every load would never start one. The other jobs end at once.
	postStarted := make(chan struct{})
	var once sync.Once
	linesStarted := make(chan struct{})
	var linesOnce sync.Once
	var mu sync.Mutex
	var events []string
	ended := map[string]bool{}
	var running []*archiveJob
	err = runArchiveJobs(context.Background(), jobs, 2, func(ctx context.Context, j *archiveJob) error {
		mu.Lock()
		for _, o := range running {
			for tb := range j.tables {
				if o.tables[tb] && (o.exclusive || j.exclusive) {
					t.Errorf("%s ran beside %s on the same table", j.name, o.name)
				}
			}
		}
		for _, d := range j.deps {
			if !ended[jobs[d].name] {
				t.Errorf("%s started before %s, which it depends on, ended", j.name, jobs[d].name)
			}
		}
		running = append(running, j)
		events = append(events, "start "+j.name)
		mu.Unlock()
		if j.load < 0 {
			once.Do(func() { close(postStarted) })
		}
		// The largest table loads first: with two workers it is among the
		// first two jobs handed out, so every other job finds it started
		// (waiting for it here, not comparing the order the workers
		// recorded, which their goroutines may do in either order).
		if j.name == "rows of public.order_lines" {
			linesOnce.Do(func() { close(linesStarted) })
		} else {
			select {
			case <-linesStarted:
			case <-time.After(time.Minute):
				t.Errorf("the largest table did not load first: %s started, rows of public.order_lines had not", j.name)
			}
		}
		if j.name == "rows of public.order_lines" {
			select {
			case <-postStarted:
			case <-time.After(time.Minute):
				t.Errorf("no post-data entry started while order_lines loaded")
			}
		}
		mu.Lock()
		for i, o := range running {
			if o == j {
				running = append(running[:i], running[i+1:]...)
				break
			}
		}
		ended[j.name] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != len(jobs) {
		t.Fatalf("%d jobs ran, want %d", len(ended), len(jobs))
	}
	t.Logf("order: %v", events)
}

// TestArchiveJobsCycle: entries that depend on each other in a cycle are
// refused, not waited for.
func TestArchiveJobsCycle(t *testing.T) {
	a := shopArchive()
	a.r.post[0].deps = append(a.r.post[0].deps, 3210)
	a.r.post[1].deps = append(a.r.post[1].deps, 3208)
	if _, err := a.archiveJobs(); err == nil {
		t.Fatal("a cycle of entries was accepted")
	}
}
