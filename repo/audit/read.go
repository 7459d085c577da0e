package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo/backend"
)

// readAll loads the records names name with workers at once. A record
// that Load refuses as damaged becomes a Damage; a record removed since
// the listing is left out; any other error stops it.
func (l *Log) readAll(ctx context.Context, names []string, workers int) ([]*Record, []Damage, error) {
	if workers <= 0 {
		workers = 8
	}
	var (
		mu      sync.Mutex
		recs    []*Record
		damaged []Damage
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, name := range names {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			rec, err := l.Load(gctx, name)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				recs = append(recs, rec)
			case errors.Is(err, ErrDamaged):
				damaged = append(damaged, Damage{Name: name, Err: err})
			case errors.Is(err, backend.ErrNotExist):
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(recs, order)
	slices.SortFunc(damaged, func(a, b Damage) int { return strings.Compare(a.Name, b.Name) })
	return recs, damaged, nil
}

// seqs returns the sequence numbers of the listed names, ascending.
func (ls *listing) seqs() []uint64 {
	seqs := make([]uint64, 0, len(ls.bySeq))
	for seq := range ls.bySeq {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs
}

func (ls *listing) all() []string {
	names := slices.Clone(ls.bad)
	for _, n := range ls.bySeq {
		names = append(names, n...)
	}
	slices.Sort(names)
	return names
}

// List returns the records f selects, oldest first, and every audit file
// that could not be read as a record (damaged: it is left out, and its
// Damage names it). An error means the trail could not be listed or
// read at all.
func (l *Log) List(ctx context.Context, f Filter) ([]*Record, []Damage, error) {
	ls, err := l.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	recs, damaged, err := l.readAll(ctx, ls.all(), f.Workers)
	if err != nil {
		return nil, nil, err
	}
	return slices.DeleteFunc(recs, func(r *Record) bool { return !f.match(r) }), damaged, nil
}

// Latest returns the newest record of one of commands (by sequence
// number, then time), or nil when there is none. It reads records from
// the newest back and stops at the first match, so the last check of a
// busy repository costs a few reads; damaged records on the way are
// skipped (check reports them).
func (l *Log) Latest(ctx context.Context, commands ...string) (*Record, error) {
	ls, err := l.list(ctx)
	if err != nil {
		return nil, err
	}
	f := Filter{Commands: commands}
	seqs := ls.seqs()
	for i := len(seqs) - 1; i >= 0; i-- {
		recs, _, err := l.readAll(ctx, ls.bySeq[seqs[i]], 0)
		if err != nil {
			return nil, err
		}
		for i := len(recs) - 1; i >= 0; i-- {
			if f.match(recs[i]) {
				return recs[i], nil
			}
		}
	}
	return nil, nil
}

// Missing is a record that another names as its predecessor and that is
// not stored: it was removed.
type Missing struct {
	Name    string
	NamedBy []string
}

// SeqRange is a run of sequence numbers From to To (inclusive).
type SeqRange struct{ From, To uint64 }

func (r SeqRange) String() string {
	if r.From == r.To {
		return fmt.Sprint(r.From)
	}
	return fmt.Sprintf("%d to %d", r.From, r.To)
}

// Verification is what Verify found (docs/design.md, "The audit trail",
// "What check proves").
type Verification struct {
	Records int // records that read, authenticate and decode
	Damaged []Damage
	Missing []Missing
	// Gaps are sequence numbers below the highest for which no record is
	// stored and none is named as missing: records removed that no
	// later record named (or whose successors are gone too).
	Gaps []SeqRange

	// Began is when the command of the oldest record that opened
	// started: the trail records every command since (zero when no
	// record opened).
	Began time.Time
	// Newest is the highest sequence number of a record that opened.
	Newest uint64
	// stored are the names of the audit files listed.
	stored map[string]bool
	// named are the snapshots the records that opened name.
	named map[pack.ID]bool
	// omittedUntil is when the newest command whose record left out
	// snapshot IDs (SnapshotsOmitted) ended.
	omittedUntil time.Time
}

// Stored reports whether the audit file name was listed.
func (v *Verification) Stored(name string) bool { return v.stored[name] }

// Recorded reports whether the trail accounts for a snapshot stored
// under any of ids whose time is t (docs/design.md, "The audit trail",
// "What check proves"): a record names one of ids, or the snapshot is
// older than the trail (saved before its first record, by a strata that
// wrote none), or a record that left out snapshot IDs ended after it
// and may have been the one. A snapshot it does not account for was
// saved by a command whose record was removed, or never written.
func (v *Verification) Recorded(t time.Time, ids ...pack.ID) bool {
	if v.Began.IsZero() || t.Before(v.Began) || !t.After(v.omittedUntil) {
		return true
	}
	for _, id := range ids {
		if v.named[id] {
			return true
		}
	}
	return false
}

// AccountFor counts ids as named by the trail: snapshots that a lock
// names which the command reading the trail found, still stored or
// removed by itself as stale (docs/design.md, "Locks"). Their command is
// still running, or was killed before its record.
func (v *Verification) AccountFor(ids ...pack.ID) {
	for _, id := range ids {
		v.named[id] = true
	}
}

// AccountNew reads the records stored since v was (with workers at once;
// 0 means 8) and counts the snapshots they name, as Verify does. check
// calls it once it has read the locks, for the commands that ended while
// it walked: one that saved a snapshot check found wrote its record
// before it removed the lock naming it (docs/design.md, "The audit
// trail", "What check proves"). A record that does not load is left to
// the next Verify to report.
func (l *Log) AccountNew(ctx context.Context, v *Verification, workers int) error {
	ls, err := l.list(ctx)
	if err != nil {
		return err
	}
	var names []string
	for name := range ls.names {
		if !v.stored[name] {
			names = append(names, name)
		}
	}
	recs, _, err := l.readAll(ctx, names, workers)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		v.account(rec)
		v.stored[rec.Name] = true
	}
	return nil
}

// account notes what rec tells about snapshots for Recorded.
func (v *Verification) account(rec *Record) {
	if v.Began.IsZero() || rec.Time.Before(v.Began) {
		v.Began = rec.Time
	}
	for _, id := range rec.Snapshots {
		v.named[id] = true
	}
	for _, id := range rec.StaleLockSnapshots {
		v.named[id] = true
	}
	if rec.SnapshotsOmitted > 0 {
		end := rec.Time.Add(time.Duration(rec.Seconds * float64(time.Second)))
		if end.After(v.omittedUntil) {
			v.omittedUntil = end
		}
	}
}

// Verify reads every audit record (with workers at once; 0 means 8) and
// reports the damaged ones, the predecessors that records name and that
// are not stored, and the sequence numbers without a record.
func (l *Log) Verify(ctx context.Context, workers int) (*Verification, error) {
	_, v, err := l.ListVerified(ctx, Filter{Workers: workers})
	return v, err
}

// ListVerified is List and Verify from one reading of the trail: the
// records f selects, oldest first, and what Verify finds in the whole
// trail (audit lists the records and warns of what check reports).
func (l *Log) ListVerified(ctx context.Context, f Filter) ([]*Record, *Verification, error) {
	ls, err := l.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	recs, damaged, err := l.readAll(ctx, ls.all(), f.Workers)
	if err != nil {
		return nil, nil, err
	}
	v := &Verification{Records: len(recs), Damaged: damaged, stored: ls.names, named: map[pack.ID]bool{}}
	namedBy := map[string][]string{}
	for _, rec := range recs {
		v.account(rec)
		for _, p := range rec.Prev {
			if !ls.names[p] {
				namedBy[p] = append(namedBy[p], rec.Name)
			}
		}
	}
	explained := map[uint64]bool{}
	for name, by := range namedBy {
		// A listing may miss a file saved while it ran: look again.
		_, err := l.be.Stat(ctx, backend.Handle{Type: backend.AuditFile, Name: name})
		if err == nil {
			continue
		}
		if !errors.Is(err, backend.ErrNotExist) {
			return nil, nil, fmt.Errorf("looking for audit record %s: %w", name, err)
		}
		slices.Sort(by)
		v.Missing = append(v.Missing, Missing{Name: name, NamedBy: by})
		seq, _, _ := ParseName(name)
		explained[seq] = true
	}
	slices.SortFunc(v.Missing, func(a, b Missing) int { return strings.Compare(a.Name, b.Name) })
	// Gaps run up to the highest number of a record that opened: a name
	// is not authenticated, and a planted one with a huge number is
	// damage (reported above), not evidence of removals.
	var top uint64
	for _, rec := range recs {
		top = max(top, rec.Seq)
	}
	v.Newest = top
	present := ls.seqs()
	for seq := range explained {
		present = append(present, seq)
	}
	slices.Sort(present)
	next := uint64(1)
	for _, seq := range present {
		if seq > top {
			break
		}
		if seq > next {
			v.Gaps = append(v.Gaps, SeqRange{From: next, To: seq - 1})
		}
		next = seq + 1
	}
	return slices.DeleteFunc(recs, func(r *Record) bool { return !f.match(r) }), v, nil
}
