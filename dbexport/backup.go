package dbexport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/redact"
	"strata/repo"
	"strata/repo/archive"
)

// SchemaNode names the node holding the Schema as JSON in a table snapshot.
const SchemaNode = "schema.json"

// ArchiveNode names the node holding the schema archive (Schema.Archive),
// when the source made one.
const ArchiveNode = "schema.pgdump"

// Repository is what a table backup needs from a repository.
type Repository interface {
	archive.Repository
	// LoadBlob reads the pages of the parent's chunk lists.
	LoadBlob(ctx context.Context, id pack.ID) ([]byte, error)
	// BlobID is the ID a blob of plaintext plain has: a table backup that
	// writes a change log names the export's chunks without storing them.
	BlobID(plain []byte) pack.ID
	// LoadBlobOnce is LoadBlob keeping no delta bases in the cache: a
	// change log's row diff reads each base chunk once.
	LoadBlobOnce(ctx context.Context, id pack.ID) ([]byte, error)
	// ChainFull reports whether a delta against blob id would restart
	// its chain: a change log then gives way to a new base.
	ChainFull(id pack.ID) bool
}

// BackupOptions describe one table backup.
type BackupOptions struct {
	Source  string // the redacted DSN, recorded in the snapshot
	Host    string
	Tags    []string
	Tier    string
	Time    time.Time
	Parent  *repo.Snapshot // previous snapshot of the same source: delta bases
	Tables  []string       // globs of qualified names to include; empty: all
	Exclude []string       // globs to leave out
	Workers int
	// Jobs is how many tables export at once; the source must allow
	// concurrent CopyOut calls when it is above 1.
	Jobs     int
	Counters *archive.Counters
	// CountRows asks a source whose schema does not count rows (SQLite)
	// to count them, for the progress bar's total: a pass over each
	// table, so only when progress is shown.
	CountRows bool
	// Logger receives notices (schema warnings, a parent that cannot be
	// read) at slog.LevelWarn; nil discards them.
	Logger  *slog.Logger
	Program string
	// Meta is recorded in the snapshot (guard records the command line).
	Meta map[string]string
}

// ErrNoSuchTable: a --tables pattern matches no table, which is a typo
// far more often than a wish to save or restore nothing of it.
var ErrNoSuchTable = errors.New("matches no table")

// Selected reports whether a table's qualified name passes the include
// and exclude globs (matched against the qualified and the bare name).
func Selected(t *Table, include, exclude []string) bool {
	match := func(globs []string) bool {
		for _, g := range globs {
			if matches(t, g) {
				return true
			}
		}
		return false
	}
	if len(include) > 0 && !match(include) {
		return false
	}
	return !match(exclude)
}

func matches(t *Table, glob string) bool {
	if ok, _ := path.Match(glob, t.QualifiedName()); ok {
		return true
	}
	ok, _ := path.Match(glob, t.Name)
	return ok
}

// CheckIncludes returns ErrNoSuchTable, naming the patterns and what of
// lists the tables, when a pattern of include matches none of tables.
func CheckIncludes(tables []*Table, include []string, of string) error {
	var missing []string
	for _, g := range include {
		found := false
		for _, t := range tables {
			if matches(t, g) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// Each name once: tables may hold a table of two snapshots twice.
	var all []string
	seen := map[string]bool{}
	for _, t := range tables {
		if n := t.QualifiedName(); !seen[n] {
			seen[n] = true
			all = append(all, n)
		}
	}
	const show = 20
	names := all
	if len(all) > show {
		names = append(all[:show:show], fmt.Sprintf("and %d more", len(all)-show))
	}
	return fmt.Errorf("--tables %s %w of %s (its tables: %s)", strings.Join(missing, ","), ErrNoSuchTable, of, strings.Join(names, ", "))
}

// Backup exports every selected table of src into r and writes a snapshot
// whose root tree holds one table node per table and the schema node.
func Backup(ctx context.Context, r Repository, src Source, opts BackupOptions) (*repo.Snapshot, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Counters == nil {
		opts.Counters = &archive.Counters{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	schema, err := src.Schema(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckIncludes(schema.Tables, opts.Tables, opts.Source); err != nil {
		return nil, fmt.Errorf("%w; no snapshot was saved", err)
	}
	var tables, left []*Table
	for _, t := range schema.Tables {
		if Selected(t, opts.Tables, opts.Exclude) {
			tables = append(tables, t)
		} else {
			left = append(left, t)
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no table of %s matches --tables/--exclude-tables", opts.Source)
	}
	byNode := map[string]*Table{}
	for _, t := range tables {
		// A schema or name with a dot, "/" or "%" gets an encoded node
		// name, so that "a.b".c and a."b.c" are two nodes and "a/b" is
		// one (docs/design.md, "Schema").
		if n := EncodeNodeName(t.Schema, t.Name); n != t.QualifiedName() {
			t.Node = n
		}
		n := t.NodeName()
		if err := repo.CheckNodeName(n); err != nil {
			// Cannot happen: the snapshot would be unreadable.
			return nil, fmt.Errorf("table %s: node %w; no snapshot was saved", quotedName(t), err)
		}
		if n == SchemaNode || n == ArchiveNode {
			return nil, fmt.Errorf("table %s has the name of the snapshot's schema node: leave it out (--exclude-tables %s); no snapshot was saved", n, n)
		}
		if o := byNode[n]; o != nil {
			// Cannot happen: an encoded name names one table.
			return nil, fmt.Errorf("tables %s and %s both have the node name %s; no snapshot was saved", quotedName(o), quotedName(t), n)
		}
		byNode[n] = t
	}
	schema.Tables = tables
	// Totals for progress: the tables, and the rows where the engine
	// counted them inside the snapshot (PostgreSQL, MySQL).
	opts.Counters.TotalFiles.Store(uint64(len(tables)))
	if rc, ok := src.(RowCounter); ok && schema.Engine == EngineSQLite {
		if opts.CountRows {
			var rows uint64
			for _, t := range tables {
				n, err := rc.CountRows(ctx, t)
				if err != nil {
					return nil, err
				}
				rows += uint64(n)
			}
			opts.Counters.TotalRows.Store(rows)
		}
	} else if schema.Engine != EngineSQLite {
		var rows uint64
		for _, t := range tables {
			rows += uint64(max(t.Rows, 0))
		}
		opts.Counters.TotalRows.Store(rows)
	}
	opts.Counters.Scanned.Store(true)
	schema.Warnings = warningsAbout(schema.Warnings, left)
	pipe := archive.NewPipeline(ctx, r, opts.Workers, opts.Counters)
	defer pipe.Close()
	tree := &repo.Tree{}
	at := opts.Time
	if at.IsZero() {
		at = time.Now()
	}
	if sa, ok := src.(SchemaArchiver); ok {
		node, warnings, err := saveArchive(ctx, r, pipe, sa, at)
		if err != nil {
			return nil, err
		}
		schema.Warnings = append(schema.Warnings, warnings...)
		if node != nil {
			tree.Nodes = append(tree.Nodes, node.node)
			schema.Archive = node.desc
		}
	}
	for _, w := range schema.Warnings {
		opts.Logger.Warn(w)
	}
	parentNodes := map[string]*repo.Node{}
	if opts.Parent != nil {
		if t, err := r.LoadTree(ctx, opts.Parent.Tree); err != nil {
			opts.Logger.Warn(fmt.Sprintf("storing every chunk without delta: parent snapshot %s unreadable: %v", opts.Parent.ID.Short(), err))
		} else {
			for i := range t.Nodes {
				parentNodes[t.Nodes[i].Name] = &t.Nodes[i]
			}
		}
	}
	var summary repo.Summary
	// Tables export side by side when the source shares its snapshot over
	// several connections (PostgreSQL --jobs); the chunks of all of them
	// go through the one pipeline.
	nodes := make([]*repo.Node, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(opts.Jobs, 1))
	for i, t := range tables {
		g.Go(func() error {
			node, err := backupTable(gctx, r, pipe, src, schema, t, parentNodes[t.NodeName()], &opts.Counters.Rows)
			if err != nil {
				return err
			}
			nodes[i] = node
			opts.Counters.Files.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, t := range tables {
		node := nodes[i]
		if p := parentNodes[t.NodeName()]; p == nil {
			summary.FilesNew++
		} else if sameContent(p, node) {
			summary.FilesUnchanged++
		} else {
			summary.FilesChanged++
		}
		tree.Nodes = append(tree.Nodes, *node)
	}
	schemaJSON, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		return nil, err
	}
	// Each hour's schema differs from its parent's in a few row counts:
	// each chunk is a delta against the parent's chunk at its place
	// (docs/design.md, "Schema").
	var parentSchema []pack.ID
	if p := parentNodes[SchemaNode]; p != nil && p.Kind == repo.NodeFile {
		parentSchema = p.Content
	}
	var schemaChunks int
	inspectSchema := func(c *archive.Chunk) {
		if schemaChunks < len(parentSchema) {
			c.Base = parentSchema[schemaChunks]
		}
		schemaChunks++
	}
	content, size, err := pipe.SaveStream(ctx, bytes.NewReader(schemaJSON), r.Config().ChunkParams(), inspectSchema)
	if err != nil {
		return nil, fmt.Errorf("saving schema: %w", err)
	}
	tree.Nodes = append(tree.Nodes, repo.Node{Name: SchemaNode, Kind: repo.NodeFile, Mode: 0o600, ModTime: at.UTC(), Size: size, Content: content})
	root, err := r.SaveTree(ctx, tree)
	if err != nil {
		return nil, fmt.Errorf("saving tree: %w", err)
	}
	// Packs, then index, then snapshot.
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	summary.BytesRead = opts.Counters.BytesRead.Load()
	summary.BytesAdded = opts.Counters.BytesAdded.Load()
	summary.BlobsAdded = opts.Counters.BlobsAdded.Load()
	summary.Seconds = time.Since(start).Seconds()
	paths := make([]string, 0, len(tables))
	for _, t := range tables {
		paths = append(paths, "/"+t.NodeName())
	}
	sort.Strings(paths)
	sn := &repo.Snapshot{
		Time: at.Round(0), Host: opts.Host, Tags: opts.Tags, Tier: opts.Tier, Source: redact.URL(opts.Source),
		Paths: paths, Tree: root, Summary: summary, Program: opts.Program, Meta: redactMeta(opts.Meta),
	}
	if u, err := user.Current(); err == nil {
		sn.Username = u.Username
	}
	if schema.Binlog != nil {
		// In the snapshot file too, so `snapshots --json` shows where
		// point-in-time recovery starts without reading schema.json.
		if sn.Meta == nil {
			sn.Meta = map[string]string{}
		}
		sn.Meta[MetaBinlog] = schema.Binlog.String()
	}
	if opts.Parent != nil {
		id := opts.Parent.ID
		sn.Parent = &id
	}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	return sn, nil
}

// archiveNode is the saved schema archive.
type archiveNode struct {
	node repo.Node
	desc *SchemaArchive
}

// saveArchive streams the source's schema archive into the repository as
// the content blobs of ArchiveNode, cut by the config's file chunking.
// It returns nil, with the source's warnings, when the source cannot
// make one.
func saveArchive(ctx context.Context, r Repository, pipe *archive.Pipeline, sa SchemaArchiver, at time.Time) (*archiveNode, []string, error) {
	pr, pw := io.Pipe()
	type result struct {
		desc     *SchemaArchive
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		desc, warnings, err := sa.SchemaArchive(ctx, pw)
		pw.CloseWithError(err)
		done <- result{desc, warnings, err}
	}()
	content, size, err := pipe.SaveStream(ctx, pr, r.Config().ChunkParams(), nil)
	pr.CloseWithError(err)
	res := <-done
	if res.err != nil {
		return nil, nil, fmt.Errorf("saving the schema archive: %w", res.err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("saving the schema archive: %w", err)
	}
	if res.desc == nil {
		return nil, res.warnings, nil
	}
	res.desc.Node, res.desc.Size = ArchiveNode, int64(size)
	return &archiveNode{
		node: repo.Node{Name: ArchiveNode, Kind: repo.NodeFile, Mode: 0o600, ModTime: at.UTC(), Size: size, Content: content},
		desc: res.desc,
	}, res.warnings, nil
}

// redactMeta masks any secret in the values recorded in a snapshot, in
// case a caller passed a command line or DSN as it was typed.
func redactMeta(meta map[string]string) map[string]string {
	if meta == nil {
		return nil
	}
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		out[k] = redact.String(v)
	}
	return out
}

func sameContent(a, b *repo.Node) bool {
	if (a.Log == nil) != (b.Log == nil) || (a.Log != nil && *a.Log != *b.Log) {
		return false
	}
	if a.Pages != nil || b.Pages != nil {
		return a.Pages != nil && b.Pages != nil && *a.Pages == *b.Pages
	}
	if len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if a.Content[i] != b.Content[i] {
			return false
		}
	}
	return true
}

// backupTable streams one table through the row-aligned chunker. Each new
// chunk names as delta base the parent's chunk whose first key is the
// greatest at or below its own.
func backupTable(ctx context.Context, r Repository, pipe *archive.Pipeline, src Source, schema *Schema, t *Table, parent *repo.Node, rowsDone *atomic.Uint64) (*repo.Node, error) {
	if plog, ok := logBase(ctx, r, t, parent); ok {
		node, err := backupLog(ctx, r, src, schema, t, parent, plog, pipe.Counters())
		if !errors.Is(err, errNoLog) {
			return node, err
		}
		// A new base: the export again, stored as chunks.
	}
	keyCols := t.KeyColumns()
	pr, pw := io.Pipe()
	var rows int64
	copyErr := make(chan error, 1)
	go func() {
		// Engines write row by row; batching the writes keeps the pipe
		// from handing over every row between goroutines on its own.
		bw := bufio.NewWriterSize(pw, 256<<10)
		n, err := src.CopyOut(ctx, t, bw)
		if err == nil {
			err = bw.Flush()
		}
		rows = n
		pw.CloseWithError(err)
		copyErr <- err
	}()
	// The chunk list goes into pages (docs/design.md, "Table pages") as
	// the chunks are saved, in order: pending holds the key entries of
	// the chunks in flight, so memory does not grow with the table.
	pages := repo.NewPageWriter(func(ctx context.Context, page []byte) (pack.ID, error) {
		res, err := r.SaveBlob(ctx, pack.TreeBlob, page, pack.ID{})
		return res.ID, err
	})
	var pending []repo.ChunkInfo
	var seeker *repo.ChunkSeeker
	if parent != nil {
		seeker = repo.NewChunkSeeker(r, parent, CompareKeys)
	}
	var seekErr error
	inspect := func(c *archive.Chunk) {
		line := c.Data
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		key := FirstKey(line, keyCols)
		n := uint64(bytes.Count(c.Data, []byte{'\n'}))
		rowsDone.Add(n)
		pending = append(pending, repo.ChunkInfo{FirstKey: key, Rows: n, Bytes: uint64(len(c.Data))})
		if seeker != nil && seekErr == nil {
			// A parent page that cannot be read only costs storage: the
			// chunks after it are stored without delta.
			c.Base, _, seekErr = seeker.Floor(ctx, key)
		}
	}
	emit := func(id pack.ID) error {
		info := pending[0]
		pending = pending[1:]
		return pages.Add(ctx, id, info)
	}
	size, err := pipe.SaveStreamEach(ctx, pr, r.Config().TableChunkParams(), inspect, emit)
	pr.CloseWithError(err)
	if cerr := <-copyErr; cerr != nil {
		return nil, fmt.Errorf("exporting table %s: %w", t.QualifiedName(), cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("saving table %s: %w", t.QualifiedName(), err)
	}
	t.Rows = rows
	meta, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	root, err := pages.Finish(ctx)
	if err != nil {
		return nil, fmt.Errorf("saving the chunk list of table %s: %w", t.QualifiedName(), err)
	}
	return &repo.Node{
		Name: t.NodeName(), Kind: repo.NodeTable, Mode: 0o600, Size: size, Pages: root,
		Meta: map[string]string{
			"engine": schema.Engine, "server_version": schema.ServerVersion, "encoding": schema.Encoding,
			repo.TableMetaRows: strconv.FormatInt(rows, 10), repo.TableMetaTable: string(meta),
		},
	}, nil
}

// warningsAbout returns the warnings that are not about a table left out
// of the backup: engines repeat each table's warnings in its Warning.
func warningsAbout(warnings []string, left []*Table) []string {
	var out []string
	for _, w := range warnings {
		skip := false
		for _, t := range left {
			skip = skip || (t.Warning != "" && strings.Contains(t.Warning, w))
		}
		if !skip {
			out = append(out, w)
		}
	}
	return out
}

// quotedName names a table as SQL does, each part quoted, so that names
// holding a dot are told apart: "a.b"."c" and "a"."b.c".
func quotedName(t *Table) string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	if t.Schema == "" {
		return q(t.Name)
	}
	return q(t.Schema) + "." + q(t.Name)
}
