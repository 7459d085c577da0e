package dbexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"strata/pack"
	"strata/repo"
	"strata/repo/restore"
)

// TableNode finds a table's node in a snapshot: name is its node name
// or, for a table whose node name is encoded (EncodeNodeName), its
// qualified name when no other table of the snapshot has the same.
func TableNode(ctx context.Context, l restore.BlobLoader, root pack.ID, name string) (*repo.Node, *Table, error) {
	n, name, err := findTableNode(ctx, l, root, name, func(name string) (*repo.Node, error) {
		return restore.FindNode(ctx, l, root, "/"+name)
	})
	if err != nil {
		return nil, nil, err
	}
	t := &Table{}
	if err := json.Unmarshal([]byte(n.Meta[repo.TableMetaTable]), t); err != nil {
		return nil, nil, fmt.Errorf("table %s: metadata: %w", name, err)
	}
	return n, t, nil
}

// TableNodeReader finds one table's node in the snapshots of a source,
// one after another (history): TableNode's answer, for less. It reads
// each snapshot's root tree only as far as the table's node
// (repo.FindTreeNode) instead of decoding every table's, and decodes the
// table's definition again only when it changed. Its Loader's LoadBlob
// must serve tree blobs, as a *repo.Repository's does.
type TableNodeReader struct {
	Loader restore.BlobLoader
	// The last definition decoded and its JSON.
	meta  string
	table *Table
}

// TableNode is TableNode of the snapshot whose root tree is root. The
// *Table may be the one an earlier call returned: callers must not
// change it.
func (r *TableNodeReader) TableNode(ctx context.Context, root pack.ID, name string) (*repo.Node, *Table, error) {
	var tree []byte
	n, name, err := findTableNode(ctx, r.Loader, root, name, func(name string) (*repo.Node, error) {
		if repo.CheckNodeName(name) != nil {
			// Not one node's name: a path, as TableNode reads it.
			return restore.FindNode(ctx, r.Loader, root, "/"+name)
		}
		if tree == nil {
			b, err := r.Loader.LoadBlob(ctx, root)
			if err != nil {
				return nil, fmt.Errorf("reading the tree of /: loading tree: %w", err)
			}
			tree = b
		}
		n, err := repo.FindTreeNode(tree, name)
		switch {
		case err != nil:
			return nil, fmt.Errorf("reading the tree of /: tree %s: %w: %v", root, repo.ErrDamaged, err)
		case n == nil:
			return nil, restore.NotFound("/" + name)
		}
		return n, nil
	})
	if err != nil {
		return nil, nil, err
	}
	meta := n.Meta[repo.TableMetaTable]
	if r.table == nil || meta != r.meta {
		t := &Table{}
		if err := json.Unmarshal([]byte(meta), t); err != nil {
			return nil, nil, fmt.Errorf("table %s: metadata: %w", name, err)
		}
		r.meta, r.table = meta, t
	}
	return n, r.table, nil
}

// findTableNode resolves name as TableNode describes, finding root's
// nodes by name with find, and returns the node and its node name. It
// tries name as a node name, then "public."+name (PostgreSQL tables are
// named schema.table; "customers" means public.customers), then each as
// the qualified name of a table whose node name is encoded ("a/b" is
// node a%2Fb).
func findTableNode(ctx context.Context, l restore.BlobLoader, root pack.ID, name string, find func(name string) (*repo.Node, error)) (*repo.Node, string, error) {
	names := []string{name}
	if !strings.Contains(name, ".") {
		names = append(names, "public."+name)
	}
	n, err := find(name)
	if errors.Is(err, restore.ErrNotFound) && len(names) > 1 {
		if pn, perr := find(names[1]); perr == nil {
			n, err, name = pn, nil, names[1]
		}
	}
	if err == nil && n.Kind != repo.NodeTable && repo.CheckNodeName(name) != nil {
		// "." or "..", read as a path, found a dir: the name of no node,
		// but perhaps a table's.
		err = restore.NotFound("/" + name)
	}
	for _, qualified := range names {
		if !errors.Is(err, restore.ErrNotFound) {
			break
		}
		if node, ok, serr := encodedNode(ctx, l, root, qualified); serr != nil {
			return nil, "", serr
		} else if ok {
			if n, err = find(node); err == nil {
				name = node
			}
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("table %s: %w", name, err)
	}
	if n.Kind != repo.NodeTable {
		return nil, "", fmt.Errorf("%s is a %s, not a table", name, n.Kind)
	}
	return n, name, nil
}

// encodedNode returns the node name of the one table of the snapshot
// whose qualified name is name and whose node name is encoded; with two
// or more such tables the name is ambiguous, and the error names their
// node names.
func encodedNode(ctx context.Context, l restore.BlobLoader, root pack.ID, name string) (string, bool, error) {
	s, err := LoadSchema(ctx, l, root)
	if err != nil {
		return "", false, nil // not a table snapshot: the caller's error stands
	}
	var nodes []string
	for _, t := range s.Tables {
		if t.QualifiedName() == name {
			nodes = append(nodes, t.NodeName())
		}
	}
	switch len(nodes) {
	case 0:
		return "", false, nil
	case 1:
		return nodes[0], true, nil
	}
	return "", false, fmt.Errorf("table %s: %d tables of the snapshot have that name (their schema or name holds a dot): name one by its node name, %s", name, len(nodes), strings.Join(nodes, " or "))
}
