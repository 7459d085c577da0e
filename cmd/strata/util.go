package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"strata/repo/archive"
)

func withDefaultHost(o archive.Options) archive.Options {
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	return o
}

func absPaths(paths []string) ([]string, error) {
	abs := make([]string, 0, len(paths))
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs = append(abs, a)
	}
	sort.Strings(abs)
	return abs, nil
}

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
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return fmt.Sprintf("%d %ses", n, noun)
		}
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
