package postgres

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// The parallel part of a restore from the schema archive (docs/design.md,
// "Restore from the schema archive", --jobs): the tables' rows and the
// post-data entries are jobs of one graph, run on Options.Jobs
// connections as pg_restore -j runs them:
//
//   - a post-data entry waits for the post-data entries it depends on and
//     for the rows of every table it depends on (through the table's
//     TABLE entry, or a partition's), so a table's indexes are built while
//     other tables still load;
//   - an entry other than an INDEX takes an exclusive lock (ALTER TABLE)
//     on its tables, so it does not start while another job uses one of
//     them: the connection would only wait for the lock;
//   - of the jobs that may start, the one with the longest chain of work
//     behind it (the rows of its tables, and of the tables of the
//     entries that wait for it) starts first, so the largest tables load
//     first and the foreign keys that end the restore are not left for
//     last on one connection.

// archiveJob is one job of the graph: a table's rows or a post-data entry.
type archiveJob struct {
	name      string
	load      int // index into archiveRestore.tables, or -1
	entry     tocEntry
	deps      []int        // jobs that must be done first
	tables    map[int]bool // tables (by load job) the job reads or changes
	exclusive bool         // takes an exclusive lock on its tables
	cost      int64        // the rows of its tables
	rank      int64        // cost plus the largest rank of a job waiting for it
	waiters   []int        // jobs that depend on this one
}

// archiveJobs builds the graph of a's tables and post-data entries.
func (a *archiveRestore) archiveJobs() ([]*archiveJob, error) {
	var jobs []*archiveJob
	// The TABLE entries of each restored table, by schema and name (so
	// "a.b".c and a."b.c" are told apart), and of its partitions, by
	// qualified name.
	tableJob := map[[2]string]int{}
	partitionJob := map[string]int{}
	for i, td := range a.tables {
		jobs = append(jobs, &archiveJob{name: "rows of " + td.Table.QualifiedName(), load: i,
			tables: map[int]bool{i: true}, cost: td.Table.Rows + 1})
		tableJob[[2]string{tocTag(td.Table.Schema), tocTag(td.Table.Name)}] = i
		for _, p := range td.Table.Partitions {
			partitionJob[tocTag(p)] = i
		}
	}
	entryTable := map[int]int{} // TABLE entry id -> load job
	for _, e := range a.r.pre {
		if e.kind != "TABLE" || a.skip[e.id] {
			continue
		}
		if j, ok := tableJob[[2]string{e.schema, e.name}]; ok {
			entryTable[e.id] = j
		} else if j, ok := partitionJob[e.schema+"."+e.name]; ok {
			entryTable[e.id] = j
		}
	}
	entryJob := map[int]int{} // post-data entry id -> job
	for _, e := range a.r.post {
		if a.skip[e.id] || e.sql == "" || a.last(e) {
			continue // an event trigger runs in finish, after everything
		}
		entryJob[e.id] = len(jobs)
		jobs = append(jobs, &archiveJob{name: e.what(), load: -1, entry: e, tables: map[int]bool{},
			exclusive: e.kind != "INDEX"})
	}
	for _, j := range jobs[len(a.tables):] {
		for _, d := range j.entry.deps {
			if t, ok := entryTable[d]; ok {
				j.tables[t] = true
				j.deps = append(j.deps, t)
			}
			if k, ok := entryJob[d]; ok {
				j.deps = append(j.deps, k)
				// A foreign key depends on the referenced table's key:
				// it locks that table too.
				for t := range jobs[k].tables {
					j.tables[t] = true
				}
			}
		}
		for t := range j.tables {
			j.cost += jobs[t].cost
		}
	}
	for i, j := range jobs {
		for _, d := range j.deps {
			jobs[d].waiters = append(jobs[d].waiters, i)
		}
	}
	// Ranks, waiters first: dependencies point backwards in the archive's
	// order and the load jobs come first, but a post-data entry may
	// depend on a later one; repeat to a fixed point, which a cycle would
	// never reach.
	for pass := 0; ; pass++ {
		if pass > len(jobs) {
			return nil, fmt.Errorf("the post-data entries of the schema archive depend on each other in a cycle")
		}
		changed := false
		for i := len(jobs) - 1; i >= 0; i-- {
			j := jobs[i]
			r := j.cost
			for _, w := range j.waiters {
				r = max(r, j.cost+jobs[w].rank)
			}
			if r != j.rank {
				j.rank, changed = r, true
			}
		}
		if !changed {
			break
		}
	}
	return jobs, nil
}

// runArchiveJobs runs the jobs, up to n at a time; run does one job on a
// free connection. The first failure stops the starting of new jobs, and
// is returned once the running ones have ended.
func runArchiveJobs(ctx context.Context, jobs []*archiveJob, n int, run func(ctx context.Context, j *archiveJob) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waiting := make([]int, len(jobs))
	for i, j := range jobs {
		waiting[i] = len(j.deps)
	}
	started := make([]bool, len(jobs))
	busy := map[int]int{} // table -> running jobs that use it
	locked := map[int]bool{}
	type result struct {
		job int
		err error
	}
	results := make(chan result)
	running, done := 0, 0
	var firstErr error
	// free reports whether job j may start beside the running jobs.
	free := func(j *archiveJob) bool {
		for t := range j.tables {
			if locked[t] || j.exclusive && busy[t] > 0 {
				return false
			}
		}
		return true
	}
	for done < len(jobs) {
		// Start the ready jobs, highest rank first, while connections
		// are free.
		if firstErr == nil {
			var ready []int
			for i, j := range jobs {
				if !started[i] && waiting[i] == 0 && free(j) {
					ready = append(ready, i)
				}
			}
			sort.SliceStable(ready, func(x, y int) bool { return jobs[ready[x]].rank > jobs[ready[y]].rank })
			for _, i := range ready {
				if running == n {
					break
				}
				j := jobs[i]
				if !free(j) { // a job started in this round took a table
					continue
				}
				started[i] = true
				running++
				for t := range j.tables {
					busy[t]++
					if j.exclusive {
						locked[t] = true
					}
				}
				go func() { results <- result{i, run(ctx, j)} }()
			}
		}
		if running == 0 {
			if firstErr != nil {
				return firstErr
			}
			return fmt.Errorf("the post-data entries of the schema archive depend on each other in a cycle")
		}
		r := <-results
		running--
		done++
		j := jobs[r.job]
		for t := range j.tables {
			busy[t]--
			if j.exclusive {
				locked[t] = false
			}
		}
		if r.err != nil && firstErr == nil {
			firstErr = r.err
			cancel()
		}
		for _, w := range j.waiters {
			waiting[w]--
		}
		if firstErr != nil && running == 0 {
			return firstErr
		}
	}
	return firstErr
}

// loadAndPost loads the tables and runs the post-data entries on
// Options.Jobs connections, each job in a transaction of its own, then
// refreshes the materialized views and sets the sequences.
func (a *archiveRestore) loadAndPost(ctx context.Context) error {
	jobs, err := a.archiveJobs()
	if err != nil {
		return err
	}
	n := a.t.opts.Jobs
	conns := make(chan *pgx.Conn, n)
	opened, err := a.conns.wait(ctx)
	if err != nil {
		return err
	}
	for _, c := range opened {
		if a.r.preamble != "" {
			if _, err := c.Exec(ctx, a.r.preamble); err != nil {
				return fmt.Errorf("session settings of the schema archive: %w", err)
			}
		}
		conns <- c
	}
	onConn := func(ctx context.Context, fn func(tx pgx.Tx) error) error {
		var c *pgx.Conn
		select {
		case c = <-conns:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { conns <- c }()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	err = runArchiveJobs(ctx, jobs, n, func(ctx context.Context, j *archiveJob) error {
		return onConn(ctx, func(tx pgx.Tx) error {
			if j.load < 0 {
				return a.entry(ctx, tx, j.entry)
			}
			td := a.tables[j.load]
			if err := copyIn(ctx, tx, td, freezeTruncate); err != nil {
				return fmt.Errorf("load rows of %s: %w", td.Table.QualifiedName(), err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return onConn(ctx, func(tx pgx.Tx) error { return a.finish(ctx, tx) })
}

// jobConns are the Options.Jobs connections of a parallel restore,
// opened side by side in the background while the schema archive is
// rendered and its pre-data section runs.
type jobConns struct {
	done  chan struct{} // closed once conns and err are set
	conns []*pgx.Conn
	err   error
}

func openJobConns(ctx context.Context, t *Target) *jobConns {
	jc := &jobConns{done: make(chan struct{}), conns: make([]*pgx.Conn, t.opts.Jobs)}
	go func() {
		defer close(jc.done)
		g, gctx := errgroup.WithContext(ctx)
		for i := range jc.conns {
			g.Go(func() error {
				c, err := connect(gctx, t.dsn, t.opts)
				jc.conns[i] = c
				return err
			})
		}
		jc.err = g.Wait()
	}()
	return jc
}

// wait returns the connections once they are open.
func (jc *jobConns) wait(ctx context.Context) ([]*pgx.Conn, error) {
	select {
	case <-jc.done:
		return jc.conns, jc.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close closes the connections, once they are open.
func (jc *jobConns) close() {
	<-jc.done
	for _, c := range jc.conns {
		if c != nil {
			c.Close(context.Background())
		}
	}
}
