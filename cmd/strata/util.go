package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"strata/internal/progress"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints aligned columns with a header and a rule under it.
type table struct {
	tw   *tabwriter.Writer
	cols int
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), cols: len(header)}
	fmt.Fprintln(t.tw, strings.Join(header, "\t"))
	rule := make([]string, len(header))
	for i, h := range header {
		rule[i] = strings.Repeat("-", len(h))
	}
	fmt.Fprintln(t.tw, strings.Join(rule, "\t"))
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

func jsonLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// counted writes n and the noun, plural unless n is 1: "1 snapshot",
// "2 snapshots", "3 entries".
func counted[T ~int | ~int64 | ~uint64 | ~uint32](n T, noun string) string {
	return progress.Counted(n, noun)
}
