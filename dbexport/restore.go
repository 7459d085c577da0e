package dbexport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"strata/pack"
	"strata/repo/restore"
)

// ErrNotTableSnapshot: the snapshot holds no schema node.
var ErrNotTableSnapshot = errors.New("snapshot holds no database tables")

// LoadSchema reads the schema of a table snapshot.
func LoadSchema(ctx context.Context, l restore.BlobLoader, root pack.ID) (*Schema, error) {
	var buf bytes.Buffer
	if err := restore.Dump(ctx, l, root, "/"+SchemaNode, &buf); err != nil {
		if errors.Is(err, restore.ErrNotFound) {
			return nil, ErrNotTableSnapshot
		}
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	s := &Schema{}
	if err := json.Unmarshal(buf.Bytes(), s); err != nil {
		return nil, fmt.Errorf("schema.json: %w", err)
	}
	if a := s.Archive; a != nil {
		if a.Node != ArchiveNode {
			return nil, fmt.Errorf("schema.json: the schema archive is in node %q, not %q", a.Node, ArchiveNode)
		}
		a.Load = func(ctx context.Context, w io.Writer) error {
			if err := restore.Dump(ctx, l, root, "/"+ArchiveNode, w); err != nil {
				return fmt.Errorf("reading the schema archive: %w", err)
			}
			return nil
		}
	}
	return s, nil
}

// RestoreOptions describe a table restore.
type RestoreOptions struct {
	Tables  []string // globs; empty: every table
	Exclude []string
	Replace bool // overwrite tables that hold rows
	DryRun  bool
	// MaxHeldKeyValues bounds the distinct values of a foreign key that
	// another table holds on a restored one which are checked against the
	// snapshot's rows before the restore; 0 means DefaultMaxHeldKeyValues.
	MaxHeldKeyValues int
	// Logger, when set, receives at slog.LevelWarn what the restore does
	// not check beforehand: the held keys with more values than
	// MaxHeldKeyValues.
	Logger *slog.Logger
	// Counters, when set, count the tables and rows written so far.
	Counters *RestoreCounters
}

// PlanEntry says what a restore does to one table.
type PlanEntry struct {
	Table        string     `json:"table"`
	SnapshotRows int64      `json:"snapshot_rows"`
	TargetRows   int64      `json:"target_rows"`
	Exists       bool       `json:"exists"`
	Action       PlanAction `json:"action"`
}

// PlanAction is what a restore does to one table: one of the keywords
// below, as `restore --json` prints them.
type PlanAction string

const (
	// ActionCreate: the target lacks the table; it is created and loaded.
	ActionCreate PlanAction = "create"
	// ActionLoad: the table exists without rows; it is replaced and loaded.
	ActionLoad PlanAction = "load"
	// ActionReplace: the table holds rows and --replace was given: they
	// are dropped with the table, which is then created and loaded.
	ActionReplace PlanAction = "replace"
	// ActionRefuse: the table holds rows and --replace was not given;
	// the restore changes nothing.
	ActionRefuse PlanAction = "refuse"
)

// Describe says in words what the action does to e's table.
func (e PlanEntry) Describe() string {
	switch e.Action {
	case ActionCreate:
		return "create and load"
	case ActionLoad:
		return "replace empty table"
	case ActionReplace:
		return fmt.Sprintf("replace (drops %s)", CountRows(e.TargetRows))
	case ActionRefuse:
		return fmt.Sprintf("refuse: holds %s (use --replace)", CountRows(e.TargetRows))
	}
	return string(e.Action)
}

// CountRows is "1 row" or "N rows", for messages.
func CountRows(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// ErrTargetNotEmpty: a restore without --replace found rows in a table.
var ErrTargetNotEmpty = errors.New("target tables are not empty")

// ErrRestoreWouldFail: the target's checks (Target.Check) found reasons
// why the restore cannot succeed.
var ErrRestoreWouldFail = errors.New("the restore would fail")

// Restore writes the selected tables of the snapshot with root tree root
// into target. Before touching anything it refuses, naming the tables and
// the reasons, when without Replace a target table holds rows, or when
// the target's checks (Target.Check) say the restore would fail. With
// DryRun it stops there: it returns the plan, and the same refusal as
// the restore would.
func Restore(ctx context.Context, l restore.BlobLoader, root pack.ID, target Target, opts RestoreOptions) (*Schema, []PlanEntry, error) {
	s, err := LoadSchema(ctx, l, root)
	if err != nil {
		return nil, nil, err
	}
	var (
		plan     []PlanEntry
		tables   []TableData
		occupied []string
	)
	if err := CheckIncludes(s.Tables, opts.Tables, "the snapshot"); err != nil {
		return s, nil, fmt.Errorf("%w; nothing was changed", err)
	}
	selected := *s
	selected.Tables = nil
	for _, t := range s.Tables {
		if !Selected(t, opts.Tables, opts.Exclude) {
			continue
		}
		if _, err := t.RowEncodingOf(); err != nil {
			return s, nil, fmt.Errorf("%w; nothing was changed", err)
		}
		selected.Tables = append(selected.Tables, t)
		n, exists, err := target.RowCount(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		e := PlanEntry{Table: t.QualifiedName(), SnapshotRows: t.Rows, TargetRows: n, Exists: exists}
		switch {
		case !exists:
			e.Action = ActionCreate
		case n == 0:
			e.Action = ActionLoad
		case opts.Replace:
			e.Action = ActionReplace
		default:
			e.Action = ActionRefuse
			occupied = append(occupied, fmt.Sprintf("%s (%s)", t.QualifiedName(), CountRows(n)))
		}
		plan = append(plan, e)
		name := t.NodeName()
		tables = append(tables, TableData{Table: t, Rows: func(ctx context.Context, w io.Writer) error {
			if c := opts.Counters; c != nil {
				start := time.Now()
				if err := restore.Dump(ctx, l, root, "/"+name, countingWriter{w: w, c: c}); err != nil {
					return err
				}
				c.loaded(name, time.Since(start))
				c.Tables.Add(1)
				return nil
			}
			return restore.Dump(ctx, l, root, "/"+name, w)
		}})
	}
	if len(tables) == 0 {
		return s, nil, fmt.Errorf("no table of the snapshot matches --tables")
	}
	var refusals []error
	if len(occupied) > 0 {
		refusals = append(refusals, fmt.Errorf("%w: %s; nothing was changed (use --replace; strata then takes a safety snapshot first)", ErrTargetNotEmpty, strings.Join(occupied, ", ")))
	}
	if err := target.Check(ctx, s, selected.Tables, true); err != nil {
		refusals = append(refusals, fmt.Errorf("%w: %w; nothing was changed", ErrRestoreWouldFail, err))
	}
	if hk, ok := target.(HeldKeyLister); ok && opts.Replace && len(refusals) == 0 {
		// Keys other tables hold on the restored ones are kept: the
		// restored rows must hold the values they use. Checked here, before
		// anything is written, as a server that cannot roll back DDL
		// (MariaDB) would find out only after re-creating the tables.
		maxValues := opts.MaxHeldKeyValues
		if maxValues <= 0 {
			maxValues = DefaultMaxHeldKeyValues
		}
		keys, err := hk.HeldKeys(ctx, s, selected.Tables, maxValues)
		if err != nil {
			return &selected, plan, err
		}
		problems, err := CheckHeldKeys(ctx, l, root, keys)
		if err != nil {
			return &selected, plan, err
		}
		problems = append(problems, uncheckedKeys(keys, maxValues, opts.Logger)...)
		if len(problems) > 0 {
			refusals = append(refusals, fmt.Errorf("%w: %s; nothing was changed", ErrRestoreWouldFail, strings.Join(problems, "; ")))
		}
	}
	if len(refusals) > 0 {
		return &selected, plan, errors.Join(refusals...)
	}
	if opts.DryRun {
		return &selected, plan, nil
	}
	if c := opts.Counters; c != nil {
		var rows uint64
		for _, e := range plan {
			rows += uint64(max(e.SnapshotRows, 0))
		}
		c.TotalTables.Store(uint64(len(tables)))
		c.TotalRows.Store(rows)
	}
	// Every table is missing, empty, or to be replaced: dropping first is safe.
	if err := target.Restore(ctx, s, tables, true); err != nil {
		return &selected, plan, err
	}
	return &selected, plan, nil
}

// uncheckedKeys says, for each held key with more than maxValues values
// (which CheckHeldKeys left unchecked), that it was not checked before the
// restore: through log when the target checks it once the rows are
// loaded and rolls a violation back, and as a reason to refuse the
// restore when it could not roll back.
func uncheckedKeys(keys []HeldKey, maxValues int, log *slog.Logger) (problems []string) {
	for _, k := range keys {
		if !k.Truncated {
			continue
		}
		what := fmt.Sprintf("foreign key %s of table %s: its rows use more than %d distinct values of (%s), more than are checked against the snapshot's rows of %s beforehand (--held-key-limit)",
			k.Name, k.Table, maxValues, strings.Join(k.Columns, ", "), k.RefTable.QualifiedName())
		if !k.CheckedAfterLoad {
			problems = append(problems, what+", and the restore could not roll back a violation found after loading: raise --held-key-limit, or restore "+k.Table+" too")
			continue
		}
		if log != nil {
			log.Warn(what + "; not checked before the restore: the restore checks it once the rows are loaded, and a violation rolls the restore back")
		}
	}
	return problems
}
