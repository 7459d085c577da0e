package mount

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
)

// snapshotDir is the folder of snapshot s at mount path p: its root
// tree.
func (m *mountFS) snapshotDir(p string, s *snap) *dirNode {
	return m.treeDir(p, s, s.sn.Tree, "/", s.sn.Time)
}

// treeDir is the folder of tree blob id, at snapshot path dir of s: a
// dir node is a folder, a file or stream a stored file, a symlink a
// symlink, and a table a folder of its rows in each format
// (tableDir).
func (m *mountFS) treeDir(p string, s *snap, id pack.ID, dir string, mtime time.Time) *dirNode {
	return &dirNode{m: m, path: p, mtime: mtime, ttl: snapshotTTL, fixed: true, list: func(ctx context.Context) ([]child, error) {
		t, err := m.tree(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", s.describe(), dir, err)
		}
		cs := make([]child, 0, len(t.Nodes))
		for i := range t.Nodes {
			n := &t.Nodes[i]
			sp := strings.TrimSuffix(dir, "/") + "/" + n.Name
			cp := p + "/" + n.Name
			switch n.Kind {
			case repo.NodeDir:
				if n.Subtree == nil {
					return nil, fmt.Errorf("%s, %s: %w: dir without subtree", s.describe(), sp, repo.ErrDamaged)
				}
				sub := *n.Subtree
				cs = append(cs, child{name: n.Name, mode: fuse.S_IFDIR, node: func() fs.InodeEmbedder {
					return m.treeDir(cp, s, sub, sp, n.ModTime)
				}})
			case repo.NodeSymlink:
				cs = append(cs, child{name: n.Name, mode: fuse.S_IFLNK, node: func() fs.InodeEmbedder {
					return &symlink{m: m, target: n.Target, mtime: n.ModTime}
				}})
			case repo.NodeTable:
				cs = append(cs, child{name: n.Name, mode: fuse.S_IFDIR, node: func() fs.InodeEmbedder {
					return m.tableDir(cp, s, sp, n)
				}})
			default:
				cs = append(cs, child{name: n.Name, mode: fuse.S_IFREG, node: func() fs.InodeEmbedder {
					return m.storedFile(s, sp, n, n.Size, n.ModTime, permOf(n))
				}})
			}
		}
		return cs, nil // trees keep their nodes sorted by name
	}}
}

// permOf is a node's permission bits without the write bits (the mount
// is read-only), 0444 when it records none.
func permOf(n *repo.Node) uint32 {
	if n.Mode == 0 {
		return 0o444
	}
	return n.Mode & 0o7555
}

// tableDir is the folder of table node n (snapshot path sp): its rows as
// TABLE.tsv, TABLE.csv and TABLE.jsonl, schema.sql and meta.json. Its
// listing needs only the names: the table's definition is decoded at
// the first lookup of one of its files (ls -R of many snapshots lists
// thousands of table folders and looks into none of their files).
func (m *mountFS) tableDir(p string, s *snap, sp string, n *repo.Node) *dirNode {
	return &dirNode{m: m, path: p, mtime: s.sn.Time, ttl: snapshotTTL, fixed: true, list: func(ctx context.Context) ([]child, error) {
		files := sync.OnceValues(func() (*tableFiles, error) { return newTableFiles(s, n) })
		check := func() error { _, err := files(); return err }
		cs := []child{
			{name: "meta.json", mode: fuse.S_IFREG, check: check, node: func() fs.InodeEmbedder {
				f, _ := files()
				return &memFile{m: m, data: f.meta, mtime: s.sn.Time}
			}},
			{name: "schema.sql", mode: fuse.S_IFREG, check: check, node: func() fs.InodeEmbedder {
				f, _ := files()
				return &memFile{m: m, data: f.schema, mtime: s.sn.Time}
			}},
		}
		for _, format := range []string{dbexport.FormatTSV, dbexport.FormatCSV, dbexport.FormatJSONL} {
			cs = append(cs, child{name: n.Name + "." + format, mode: fuse.S_IFREG, check: check, node: func() fs.InodeEmbedder {
				f, _ := files()
				if f.stored[format] {
					return m.storedFile(s, sp, n, n.Size, s.sn.Time, 0o444)
				}
				return m.convertedFile(s, sp+"."+format, n, f.table, format)
			}})
		}
		return sortChildren(cs), nil
	}}
}

// tableFiles is what the files of a table folder are made from.
type tableFiles struct {
	table        *dbexport.Table
	schema, meta []byte
	stored       map[string]bool // the formats that are the stored text itself
}

func newTableFiles(s *snap, n *repo.Node) (*tableFiles, error) {
	t := &dbexport.Table{}
	if err := json.Unmarshal([]byte(n.Meta[repo.TableMetaTable]), t); err != nil {
		return nil, fmt.Errorf("%s, table %s: %w: its definition: %v", s.describe(), n.Name, repo.ErrDamaged, err)
	}
	meta, err := tableMeta(s, n, t)
	if err != nil {
		return nil, err
	}
	f := &tableFiles{table: t, schema: tableSchema(t), meta: meta, stored: map[string]bool{}}
	for _, format := range []string{dbexport.FormatTSV, dbexport.FormatCSV, dbexport.FormatJSONL} {
		rf, err := dbexport.NewRowFormat(t, format)
		if err != nil {
			return nil, fmt.Errorf("%s, table %s: %w", s.describe(), n.Name, err)
		}
		f.stored[format] = rf.Stored()
	}
	return f, nil
}

// tableSchema is the table's definition as SQL in its engine's dialect:
// the CREATE TABLE, then what a restore runs after the rows (indexes,
// foreign keys, triggers, sequence positions).
func tableSchema(t *dbexport.Table) []byte {
	var b strings.Builder
	for _, stmt := range append([]string{t.DDL}, t.PostDDL...) {
		stmt = strings.TrimRight(strings.TrimSpace(stmt), ";")
		if stmt != "" {
			b.WriteString(stmt + ";\n")
		}
	}
	return []byte(b.String())
}

// tableMetaFile is meta.json: what a table folder holds, and where from.
type tableMetaFile struct {
	Table       string    `json:"table"`
	Rows        int64     `json:"rows"`
	Key         []string  `json:"key"`
	Columns     []string  `json:"columns"`
	Snapshot    string    `json:"snapshot"`
	Time        time.Time `json:"time"`
	Source      string    `json:"source"`
	Host        string    `json:"host"`
	Engine      string    `json:"engine,omitempty"`
	RowEncoding string    `json:"row_encoding"`
	Consistent  bool      `json:"consistent"`
	Warning     string    `json:"warning,omitempty"`
}

func tableMeta(s *snap, n *repo.Node, t *dbexport.Table) ([]byte, error) {
	enc := "copy"
	if e, _ := t.RowEncodingOf(); e == dbexport.RowEncodingTyped {
		enc = "typed"
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	key := t.PrimaryKey
	if key == nil {
		key = []string{}
	}
	b, err := json.MarshalIndent(tableMetaFile{
		Table: t.QualifiedName(), Rows: t.Rows, Key: key, Columns: cols,
		Snapshot: s.sn.ID.String(), Time: s.sn.Time.UTC(), Source: s.sn.Source, Host: s.sn.Host,
		Engine: n.Meta["engine"], RowEncoding: enc, Consistent: t.Consistent, Warning: t.Warning,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
