package dbexport

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strings"

	"strata/pack"
	"strata/repo/restore"
)

// DefaultMaxHeldKeyValues bounds the distinct values of one held key that
// CheckHeldKeys keeps in memory (a few tens of MB at most), unless
// RestoreOptions.MaxHeldKeyValues says otherwise. A key whose referencing
// table holds more is not checked before the restore: Restore says so
// (RestoreOptions.Logger), and the target's restore checks it once the
// rows are loaded, rolling back a violation; a target that could not roll
// it back refuses the restore instead (HeldKey.CheckedAfterLoad).
const DefaultMaxHeldKeyValues = 1 << 20

// HeldKey is a foreign key that a table the restore leaves alone holds on
// a restored table: the restore keeps it, so the restored rows must hold
// every key value the referencing table uses.
type HeldKey struct {
	Name       string   // the constraint's name
	Table      string   // the referencing table, as the target names it
	Columns    []string // its referencing columns
	RefTable   *Table   // the restored table, the snapshot's definition
	RefColumns []string // the referenced columns, in the order of Columns
	// Values holds the distinct values of Columns, none NULL, that the
	// referencing table holds, each made by KeyValue from the columns'
	// text (as COPY text shows them, unescaped). Truncated says there
	// were more than the lister's bound; Values is then incomplete.
	Values    map[string]bool
	Truncated bool
	// CheckedAfterLoad says the target's restore checks the key once the
	// rows are loaded, in a transaction that a violation rolls back, so a
	// Truncated key may be left to it.
	CheckedAfterLoad bool
}

// KeyValue joins the text of a key's columns into one map key.
func KeyValue(cols []string) string { return strings.Join(cols, "\x00") }

// HeldKeyLister is implemented by targets that can list the held keys on
// tables (the snapshot's definitions of the tables to restore; s is the
// snapshot's whole schema): the keys of target tables not among them that
// reference one of them and that the target's Restore keeps checked, with
// the values they hold: at most maxValues per key, beyond which the key is
// Truncated.
type HeldKeyLister interface {
	HeldKeys(ctx context.Context, s *Schema, tables []*Table, maxValues int) ([]HeldKey, error)
}

// CheckHeldKeys reads the snapshot's rows of each table that a held key
// references, once, and returns a reason for each key whose values the
// rows do not all hold: the key, its table, how many values are missing
// and a few of them. A Truncated key is not checked (Restore says so).
// Memory: the keys' values, bounded by the lister's maxValues each.
func CheckHeldKeys(ctx context.Context, l restore.BlobLoader, root pack.ID, keys []HeldKey) ([]string, error) {
	byTable := map[*Table][]*HeldKey{}
	var order []*Table
	var problems []string
	for i := range keys {
		k := &keys[i]
		if k.Truncated || len(k.Values) == 0 {
			continue
		}
		if _, ok := byTable[k.RefTable]; !ok {
			order = append(order, k.RefTable)
		}
		byTable[k.RefTable] = append(byTable[k.RefTable], k)
	}
	for _, t := range order {
		cols := map[string]int{}
		for i, c := range t.Columns {
			cols[c.Name] = i
		}
		type probe struct {
			key *HeldKey
			at  []int
		}
		var probes []probe
		for _, k := range byTable[t] {
			p := probe{key: k}
			for _, c := range k.RefColumns {
				i, ok := cols[c]
				if !ok {
					problems = append(problems, fmt.Sprintf("foreign key %s of table %s references column %s of %s, which the snapshot's table does not have: restore %s too, or drop the key first",
						k.Name, k.Table, c, t.QualifiedName(), k.Table))
					p.at = nil
					break
				}
				p.at = append(p.at, i)
			}
			if p.at != nil {
				probes = append(probes, p)
			}
		}
		if len(probes) == 0 {
			continue
		}
		if err := scanRows(ctx, l, root, t, func(fields [][]byte) error {
			for _, p := range probes {
				vals := make([]string, len(p.at))
				for j, i := range p.at {
					if i >= len(fields) {
						return fmt.Errorf("a row of %s in the snapshot has %d fields, want %d", t.QualifiedName(), len(fields), len(t.Columns))
					}
					v, ok, err := Unescape(fields[i])
					if err != nil {
						return fmt.Errorf("a row of %s in the snapshot: %w", t.QualifiedName(), err)
					}
					if !ok {
						vals = nil
						break
					}
					vals[j] = string(v)
				}
				if vals != nil {
					delete(p.key.Values, KeyValue(vals))
				}
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for _, p := range probes {
			if missing := len(p.key.Values); missing > 0 {
				problems = append(problems, describeMissing(p.key))
			}
		}
	}
	return problems, nil
}

// describeMissing names the key, its table and a sample of the values
// that the snapshot's rows lack.
func describeMissing(k *HeldKey) string {
	var sample []string
	for v := range k.Values {
		sample = append(sample, "("+strings.ReplaceAll(v, "\x00", ", ")+")")
	}
	sort.Strings(sample)
	more := ""
	if len(sample) > 5 {
		sample, more = sample[:5], ", ..."
	}
	what := fmt.Sprintf("%d values", len(k.Values))
	if len(k.Values) == 1 {
		what = "1 value"
	}
	return fmt.Sprintf("foreign key %s of table %s: %s of (%s) that its rows use %s missing from the snapshot's rows of %s: %s%s (restore %s too, or correct its rows first)",
		k.Name, k.Table, what, strings.Join(k.Columns, ", "), map[bool]string{true: "is", false: "are"}[len(k.Values) == 1],
		k.RefTable.QualifiedName(), strings.Join(sample, ", "), more, k.Table)
}

// scanRows calls row with the raw fields of each of the snapshot's rows
// of t.
func scanRows(ctx context.Context, l restore.BlobLoader, root pack.ID, t *Table, row func([][]byte) error) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(restore.Dump(ctx, l, root, "/"+t.NodeName(), pw)) }()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		if err := row(SplitRow(sc.Bytes())); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the snapshot's rows of %s: %w", t.QualifiedName(), err)
	}
	return nil
}

// ScanHeldKeyValues fills k.Values from rows, a SELECT DISTINCT of k's
// columns (at most maxValues+1 rows) over database/sql; text turns the
// value scanned from column i into the text a backup stores for it,
// unescaped. More than maxValues values set k.Truncated.
func ScanHeldKeyValues(rows *sql.Rows, k *HeldKey, maxValues int, text func(i int, v any) (string, error)) error {
	k.Values = map[string]bool{}
	raw := make([]any, len(k.Columns))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	vals := make([]string, len(raw))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if len(k.Values) == maxValues {
			k.Truncated = true
			break
		}
		for i, v := range raw {
			t, err := text(i, v)
			if err != nil {
				return fmt.Errorf("column %s: %w", k.Columns[i], err)
			}
			vals[i] = t
		}
		k.Values[KeyValue(vals)] = true
	}
	return rows.Err()
}
