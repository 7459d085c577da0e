package health

import (
	"context"

	"strata/repo/audit"
)

// The audit trail's command names of check and drill records.
const (
	CheckCommand = "check"
	DrillCommand = "verify drill"
)

// AuditResults reads check and drill results from the repository's audit
// trail (package audit), where check and verify drill record them.
type AuditResults struct{ Log *audit.Log }

// LastCheck is the newest check record.
func (a AuditResults) LastCheck(ctx context.Context) (*CheckRun, error) {
	rec, err := a.Log.Latest(ctx, CheckCommand)
	if err != nil || rec == nil {
		return nil, err
	}
	c := &CheckRun{Time: rec.Time, OK: rec.Result.OK, Error: rec.Result.Error}
	if ch := rec.Result.Check; ch != nil {
		c.Errors, c.ReadData, c.ReadDataSubset = ch.Errors, ch.ReadData, ch.ReadDataSubset
	}
	return c, nil
}

// Drills are the newest drill record of each source: the source the
// record names, else (records written before they named it) the source
// of its snapshot; a drill of neither (its snapshot forgotten since) is
// of an unknown source and left out.
func (a AuditResults) Drills(ctx context.Context, sources map[string]string) ([]DrillRun, error) {
	recs, _, err := a.Log.List(ctx, audit.Filter{Commands: []string{DrillCommand}})
	if err != nil {
		return nil, err
	}
	newest := map[string]DrillRun{}
	var order []string
	for _, rec := range recs { // oldest first: a later record replaces
		if len(rec.Snapshots) == 0 {
			continue
		}
		src := rec.Source
		if src == "" {
			var ok bool
			if src, ok = sources[rec.Snapshots[0].String()]; !ok {
				continue
			}
		}
		d := DrillRun{Time: rec.Time, Source: src, Snapshot: rec.Snapshots[0].Short(), OK: rec.Result.OK, Error: rec.Result.Error}
		if dr := rec.Result.Drill; dr != nil {
			d.RestoreSeconds = dr.RestoreSeconds
			d.Tables = len(dr.Tables)
			for _, t := range dr.Tables {
				if !t.OK {
					d.FailedTables++
				}
				d.TableResults = append(d.TableResults, DrillTable{Table: t.Table, Rows: t.Rows, LoadSeconds: t.LoadSeconds, OK: t.OK})
			}
			d.OK = d.OK && dr.OK
		}
		if _, seen := newest[src]; !seen {
			order = append(order, src)
		}
		newest[src] = d
	}
	out := make([]DrillRun, 0, len(order))
	for _, src := range order {
		out = append(out, newest[src])
	}
	return out, nil
}
