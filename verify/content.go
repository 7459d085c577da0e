package verify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sync/errgroup"

	"strata/dbexport"
	"strata/pack"
	"strata/repo/restore"
)

// A same-engine drill (docs/design.md, "Restore drills") reads the
// restored database back with the engine's own exporter, which writes
// the canonical row encoding ordered by key, exactly as the backup wrote
// the snapshot's rows. Restored and saved bytes are then equal row for
// row unless the restore changed a value, lost or added a row, or
// reordered keys.

// CompareRestored compares, after Drill into a database of the
// snapshot's own engine, what the drill restored with the snapshot with
// root tree root: per table the SHA-256 of the rows as restored (read
// back through restored, the engine's exporter on the scratch database)
// against that of the snapshot's rows, and the restored schema objects
// against the snapshot's (CompareSchema). Each difference becomes a
// problem of rep, naming the table and what differs. It returns an error
// only when the comparison could not run.
func CompareRestored(ctx context.Context, l restore.BlobLoader, root pack.ID, restored dbexport.Source, rep *DrillReport) error {
	rep.SameEngine = true
	if rep.Error != "" {
		return nil
	}
	saved, err := dbexport.LoadSchema(ctx, l, root)
	if err != nil {
		return err
	}
	back, err := restored.Schema(ctx)
	if err != nil {
		return fmt.Errorf("drill: reading the restored schema: %w", err)
	}
	back.SetNodeNames() // as the backup named the saved tables' nodes
	names := make([]string, len(rep.Tables))
	for i, td := range rep.Tables {
		names[i] = td.Table
	}
	diff := CompareSchema(saved, back, names)
	rep.SchemaProblems = append(rep.SchemaProblems, diff.Objects...)
	for i := range rep.Tables {
		td := &rep.Tables[i]
		td.Problems = append(td.Problems, diff.Tables[td.Table]...)
		t := back.Table(td.Table)
		if t == nil {
			continue // CompareSchema named it missing
		}
		rd, err := compareRows(ctx,
			func(ctx context.Context, w io.Writer) error { return restore.Dump(ctx, l, root, "/"+td.Table, w) },
			func(ctx context.Context, w io.Writer) error { _, err := restored.CopyOut(ctx, t, w); return err })
		if err != nil {
			return fmt.Errorf("drill: comparing the rows of %s: %w", td.Table, err)
		}
		td.SnapshotHash, td.RestoredHash = rd.savedHash, rd.restoredHash
		if p := rd.problem(t); p != "" {
			td.Problems = append(td.Problems, p)
		}
	}
	return nil
}

// rowDiff is what comparing two row streams found.
type rowDiff struct {
	savedHash, restoredHash string // SHA-256 of each stream, hex
	savedRows, restoredRows int64
	differing               int64  // positions whose rows differ
	first                   int64  // 1-based position of the first, 0 if none
	firstSaved, firstBack   []byte // its rows (nil: that stream had ended)
}

// problem says in words how the restored rows differ, or "" if they are
// the same. It names the first differing row by its position in key
// order and its key, and the columns that differ, but no other value.
func (d rowDiff) problem(t *dbexport.Table) string {
	if d.savedHash == d.restoredHash {
		return ""
	}
	var first string
	switch {
	case d.firstSaved == nil:
		first = fmt.Sprintf("row %d%s is not in the snapshot", d.first, keyOf(t, d.firstBack))
	case d.firstBack == nil:
		first = fmt.Sprintf("row %d%s of the snapshot was not restored", d.first, keyOf(t, d.firstSaved))
	default:
		first = fmt.Sprintf("row %d%s differs in %s", d.first, keyOf(t, d.firstSaved), differingColumns(t, d.firstSaved, d.firstBack))
	}
	return fmt.Sprintf("content differs: %d of %d rows in key order (first: %s); restored SHA-256 %s, snapshot %s",
		d.differing, max(d.savedRows, d.restoredRows), first, d.restoredHash[:16], d.savedHash[:16])
}

// keyOf is " (key col=value, ...)" for a row of t, its raw COPY text
// fields shortened, or "" when t has no primary key.
func keyOf(t *dbexport.Table, line []byte) string {
	if len(t.PrimaryKey) == 0 {
		return ""
	}
	fields := dbexport.SplitRow(line)
	var parts []string
	for _, i := range t.KeyColumns() {
		v := "?"
		if i < len(fields) {
			v = string(fields[i])
			if len(v) > 40 {
				v = v[:40] + "..."
			}
		}
		if i < len(t.Columns) {
			parts = append(parts, t.Columns[i].Name+"="+v)
		}
	}
	return " (key " + strings.Join(parts, ", ") + ")"
}

// differingColumns names the columns whose fields differ between two
// rows of t.
func differingColumns(t *dbexport.Table, a, b []byte) string {
	fa, fb := dbexport.SplitRow(a), dbexport.SplitRow(b)
	if len(fa) != len(fb) {
		return fmt.Sprintf("its number of fields (%d restored, %d saved)", len(fb), len(fa))
	}
	var cols []string
	for i := range fa {
		if !bytes.Equal(fa[i], fb[i]) {
			name := fmt.Sprintf("field %d", i+1)
			if i < len(t.Columns) {
				name = t.Columns[i].Name
			}
			cols = append(cols, name)
		}
	}
	return "column " + strings.Join(cols, ", ")
}

// compareRows runs saved and restored, each writing one table's rows as
// COPY text, side by side, and compares them line by line while hashing
// them: memory stays at a line of each, whatever the table's size.
func compareRows(ctx context.Context, saved, restored func(context.Context, io.Writer) error) (rowDiff, error) {
	g, ctx := errgroup.WithContext(ctx)
	sr, sw := io.Pipe()
	rr, rw := io.Pipe()
	g.Go(func() error { return sw.CloseWithError(saved(ctx, sw)) })
	g.Go(func() error { return rw.CloseWithError(restored(ctx, rw)) })
	var d rowDiff
	g.Go(func() error {
		err := d.read(bufio.NewReaderSize(sr, 64<<10), bufio.NewReaderSize(rr, 64<<10))
		// Unblocks a writer still running after a read error, which
		// then returns that same error.
		stop := err
		if stop == nil {
			stop = errStopped
		}
		sr.CloseWithError(stop)
		rr.CloseWithError(stop)
		return err
	})
	if err := g.Wait(); err != nil {
		return d, err
	}
	return d, nil
}

var errStopped = errors.New("comparison stopped")

func (d *rowDiff) read(saved, back *bufio.Reader) error {
	hs, hr := sha256.New(), sha256.New()
	for pos := int64(1); ; pos++ {
		a, errA := saved.ReadBytes('\n')
		b, errB := back.ReadBytes('\n')
		hs.Write(a)
		hr.Write(b)
		if errA != nil && errA != io.EOF {
			return fmt.Errorf("the snapshot's rows: %w", errA)
		}
		if errB != nil && errB != io.EOF {
			return fmt.Errorf("the restored rows: %w", errB)
		}
		if len(a) == 0 && len(b) == 0 {
			break
		}
		if len(a) > 0 {
			d.savedRows++
		}
		if len(b) > 0 {
			d.restoredRows++
		}
		if !bytes.Equal(a, b) {
			d.differing++
			if d.first == 0 {
				d.first = pos
				if len(a) > 0 {
					d.firstSaved = bytes.TrimSuffix(a, []byte("\n"))
				}
				if len(b) > 0 {
					d.firstBack = bytes.TrimSuffix(b, []byte("\n"))
				}
			}
		}
	}
	d.savedHash, d.restoredHash = hex.EncodeToString(hs.Sum(nil)), hex.EncodeToString(hr.Sum(nil))
	return nil
}
