package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

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

// render runs pg_restore over the archive file: per section (pre-data,
// post-data) --list for the entries it holds, then --verbose --file=-
// for their SQL, and again with --no-owner when opts.NoOwner is set or an
// entry's owner is not in roles.
func render(ctx context.Context, pgRestore *tool, path string, opts Options, roles map[string]bool) (*rendered, error) {
	r := &rendered{noOwner: map[int]string{}}
	sections := []string{"pre-data", "post-data"}
	var (
		lists     [2][]int
		preambles [2]string
		entries   [2][]tocEntry
	)
	// The sections side by side, and each section's list beside its
	// rendering: each pg_restore run costs a process start, and nothing
	// else happens before the first table loads.
	var raw [2][]byte
	g, gctx := errgroup.WithContext(ctx)
	for i, section := range sections {
		g.Go(func() error {
			var err error
			lists[i], err = listSection(gctx, pgRestore, path, opts, section)
			return err
		})
		g.Go(func() error {
			var err error
			raw[i], err = renderRaw(gctx, pgRestore, path, opts, section, false)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, section := range sections {
		var err error
		preambles[i], entries[i], err = renderSection(ctx, pgRestore, path, opts, section, lists[i], false, raw[i])
		if err != nil {
			return nil, err
		}
	}
	r.preamble, r.pre, r.post = preambles[0], entries[0], entries[1]
	if !opts.NoOwner && !r.ownersMissing(roles) {
		return r, nil
	}
	var unowned [2][]tocEntry
	g, gctx = errgroup.WithContext(ctx)
	for i, section := range sections {
		g.Go(func() error {
			var err error
			raw, err := renderRaw(gctx, pgRestore, path, opts, section, true)
			if err != nil {
				return err
			}
			_, unowned[i], err = renderSection(gctx, pgRestore, path, opts, section, lists[i], true, raw)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, es := range unowned {
		for _, e := range es {
			r.noOwner[e.id] = e.sql
		}
	}
	return r, nil
}

// listSection returns the ids of the entries of one section, in the order
// pg_restore restores them: the archive's, with grants after everything
// else and event triggers last (pg_restore's ACL and post-ACL passes).
func listSection(ctx context.Context, pgRestore *tool, path string, opts Options, section string) ([]int, error) {
	var list bytes.Buffer
	if err := pgRestore.run(ctx, nil, opts, &list, "--list", "--section="+section, path); err != nil {
		return nil, err
	}
	var passes [3][]int
	for _, line := range strings.Split(list.String(), "\n") {
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		// "3472; 0 0 ACL public TABLE t postgres"
		idText, rest, _ := strings.Cut(line, ";")
		id, err := strconv.Atoi(idText)
		if err != nil {
			return nil, fmt.Errorf("pg_restore --list printed %q", line)
		}
		f := strings.Fields(rest)
		pass := 0
		switch {
		case len(f) > 2 && f[2] == "ACL", len(f) > 3 && f[2] == "DEFAULT" && f[3] == "ACL":
			pass = 1
		case len(f) > 3 && f[2] == "EVENT" && f[3] == "TRIGGER":
			pass = 2
		case len(f) > 5 && f[2] == "COMMENT" && f[4] == "EVENT" && f[5] == "TRIGGER":
			// "3348; 0 0 COMMENT - EVENT TRIGGER t postgres": with its
			// event trigger, as pg_restore runs it (else before it).
			pass = 2
		}
		passes[pass] = append(passes[pass], id)
	}
	return append(append(passes[0], passes[1]...), passes[2]...), nil
}

// renderArgs are pg_restore's arguments that render one section as SQL.
func renderArgs(section string, noOwner bool) []string {
	args := []string{"--verbose", "--file=-", "--section=" + section}
	if noOwner {
		args = append(args, "--no-owner")
	}
	return args
}

// renderRaw is pg_restore's rendering of one section of the archive at
// path, for renderSection.
func renderRaw(ctx context.Context, pgRestore *tool, path string, opts Options, section string, noOwner bool) ([]byte, error) {
	var out bytes.Buffer
	if err := pgRestore.run(ctx, nil, opts, &out, append(renderArgs(section, noOwner), path)...); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// renderSection renders the entries ids of a section, in that order,
// from raw, renderRaw's rendering of the whole section. An
// entry's SQL may hold text that looks like an entry header (in a
// function body, say): the split of the whole section then shows an id
// that is not the section's, or one twice. Such ids, and the entries just
// before them, whose SQL was cut short, are rendered again one at a time
// (--use-list with the one id), where the first header is the real one
// and everything after it the entry's SQL.
func renderSection(ctx context.Context, pgRestore *tool, path string, opts Options, section string, ids []int, noOwner bool, raw []byte) (string, []tocEntry, error) {
	args := renderArgs(section, noOwner)
	preamble, parsed, err := splitRendering(raw)
	if err != nil {
		return "", nil, err
	}
	want := map[int]bool{}
	for _, id := range ids {
		want[id] = true
	}
	count := map[int]int{}
	for _, e := range parsed {
		count[e.id]++
	}
	byID := map[int]tocEntry{}
	redo := map[int]bool{}
	for i, e := range parsed {
		if want[e.id] && count[e.id] == 1 {
			byID[e.id] = e
			continue
		}
		redo[e.id] = true
		if i > 0 {
			redo[parsed[i-1].id] = true
		}
	}
	list := fmt.Sprintf("%s.%s.%t.list", path, section, noOwner) // one per concurrent call
	defer os.Remove(list)
	entries := make([]tocEntry, 0, len(ids))
	for _, id := range ids {
		e, ok := byID[id]
		if ok && !redo[id] {
			entries = append(entries, e)
			continue
		}
		if err := os.WriteFile(list, []byte(strconv.Itoa(id)+";\n"), 0o600); err != nil {
			return "", nil, fmt.Errorf("pg_restore list file: %w", err)
		}
		var out bytes.Buffer
		if err := pgRestore.run(ctx, nil, opts, &out, append(args, "--use-list="+list, path)...); err != nil {
			return "", nil, err
		}
		if _, e, err = splitSingle(out.Bytes()); err != nil {
			return "", nil, err
		}
		if e.id != id {
			return "", nil, fmt.Errorf("pg_restore rendered entry %d when asked for entry %d", e.id, id)
		}
		entries = append(entries, e)
	}
	return preamble, entries, nil
}

// ownersMissing reports whether an entry belongs to a role not in roles.
func (r *rendered) ownersMissing(roles map[string]bool) bool {
	for _, e := range append(append([]tocEntry{}, r.pre...), r.post...) {
		if !hasNoOwner(e) && !roles[e.owner] {
			return true
		}
	}
	return false
}

// hasNoOwner: entries such as extensions and comments name no owner.
func hasNoOwner(e tocEntry) bool { return e.owner == "" || e.owner == "-" }

// exclude returns the ids of the entries a restore leaves out: the tables
// of the archive that the snapshot does not hold (a backup of some
// tables, --tables, still archives every table of its schemas), and
// everything that depends on one of them. Partitions belong to their
// partitioned table.
func (r *rendered) exclude(s *dbexport.Schema) (map[int]bool, []string) {
	keep := map[string]bool{}
	for _, t := range s.Tables {
		keep[tocTag(t.QualifiedName())] = true
		for _, p := range t.Partitions {
			keep[tocTag(p)] = true
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
