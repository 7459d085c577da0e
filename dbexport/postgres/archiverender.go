package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"strata/dbexport"
)

// rendered is a schema archive turned into SQL by pg_restore, split per
// entry, for one restore.
type rendered struct {
	preamble  string
	pre, post []tocEntry
	// noOwner holds each entry's SQL rendered with --no-owner, for the
	// entries whose owner the target lacks (and all with NoOwner).
	noOwner map[int]string
}

// archiveFile writes the snapshot's schema archive to a temporary file
// (0600), which pg_restore reads; the caller removes it.
func archiveFile(ctx context.Context, a *dbexport.SchemaArchive) (string, error) {
	f, err := os.CreateTemp("", "strata-schema-*.pgdump")
	if err != nil {
		return "", fmt.Errorf("temporary file for the schema archive: %w", err)
	}
	name := f.Name()
	err = a.Load(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// render runs pg_restore over the archive file: --list for the entries it
// holds, then --verbose --file=- for the pre-data and the post-data
// sections, with and without --no-owner. Every entry of the list must be
// rendered exactly once: SQL text that merely looks like an entry header
// (in a function body, say) then cannot pass for one.
func render(ctx context.Context, pgRestore *tool, path string, opts Options) (*rendered, error) {
	var list bytes.Buffer
	if err := pgRestore.run(ctx, nil, opts, &list, "--list", path); err != nil {
		return nil, err
	}
	want := map[int]bool{}
	for _, line := range strings.Split(list.String(), "\n") {
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		idText, _, _ := strings.Cut(line, ";")
		id, err := strconv.Atoi(idText)
		if err != nil {
			return nil, fmt.Errorf("pg_restore --list printed %q", line)
		}
		want[id] = true
	}
	r := &rendered{noOwner: map[int]string{}}
	seen := map[int]bool{}
	for _, section := range []string{"pre-data", "post-data"} {
		for _, noOwner := range []bool{false, true} {
			args := []string{"--verbose", "--file=-", "--section=" + section}
			if noOwner {
				args = append(args, "--no-owner")
			}
			var out bytes.Buffer
			if err := pgRestore.run(ctx, nil, opts, &out, append(args, path)...); err != nil {
				return nil, err
			}
			preamble, entries, err := splitRendering(out.Bytes())
			if err != nil {
				return nil, err
			}
			if noOwner {
				for _, e := range entries {
					r.noOwner[e.id] = e.sql
				}
				continue
			}
			for _, e := range entries {
				if !want[e.id] || seen[e.id] {
					return nil, fmt.Errorf("pg_restore output is ambiguous: entry %d is not in the archive's list, or comes twice (SQL text that looks like an entry header?)", e.id)
				}
				seen[e.id] = true
			}
			if section == "pre-data" {
				r.preamble, r.pre = preamble, entries
			} else {
				r.post = entries
			}
		}
	}
	for id := range want {
		if !seen[id] {
			return nil, fmt.Errorf("pg_restore output lacks entry %d of the archive", id)
		}
	}
	for _, e := range append(append([]tocEntry{}, r.pre...), r.post...) {
		if _, ok := r.noOwner[e.id]; !ok {
			return nil, fmt.Errorf("pg_restore --no-owner output lacks entry %d of the archive", e.id)
		}
	}
	return r, nil
}

// exclude returns the ids of the entries a restore leaves out: the tables
// of the archive that the snapshot does not hold (a backup of some
// tables, --tables, still archives every table of its schemas), and
// everything that depends on one of them. Partitions belong to their
// partitioned table.
func (r *rendered) exclude(s *dbexport.Schema) (map[int]bool, []string) {
	keep := map[string]bool{}
	for _, t := range s.Tables {
		keep[t.QualifiedName()] = true
		for _, p := range t.Partitions {
			keep[p] = true
		}
	}
	out := map[int]bool{}
	all := append(append([]tocEntry{}, r.pre...), r.post...)
	var names []string
	for _, e := range all {
		if e.kind == "TABLE" && !keep[e.schema+"."+e.name] {
			out[e.id] = true
			names = append(names, e.what())
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	// Dependencies point backwards in the archive's order, but the
	// post-data section comes after the pre-data: repeat to a fixed point.
	for changed := true; changed; {
		changed = false
		for _, e := range all {
			if out[e.id] {
				continue
			}
			for _, d := range e.deps {
				if out[d] {
					out[e.id] = true
					names = append(names, e.what())
					changed = true
					break
				}
			}
		}
	}
	return out, names
}
