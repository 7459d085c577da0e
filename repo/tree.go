package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"strata/pack"
)

// Node kinds.
const (
	NodeFile    = "file"
	NodeDir     = "dir"
	NodeSymlink = "symlink"
	NodeStream  = "stream" // standard input saved with --stdin
	NodeTable   = "table"  // a database table (dbexport)
)

// Meta keys of table nodes (docs/design.md, "Trees"), named here so that
// code below dbexport (repair) can read and adjust them.
const (
	// TableMetaRows is the table's row count, in decimal.
	TableMetaRows = "rows"
	// TableMetaTable is the table's definition as JSON; its member "rows"
	// repeats the row count.
	TableMetaTable = "table"
)

// Node is one entry of a tree (docs/design.md, "Trees").
type Node struct {
	Name    string            `json:"name"`
	Kind    string            `json:"kind"`
	Mode    uint32            `json:"mode,omitempty"` // permission bits
	ModTime time.Time         `json:"mtime,omitempty"`
	Size    uint64            `json:"size"`
	Inode   uint64            `json:"inode,omitempty"`
	Device  uint64            `json:"device,omitempty"`
	Target  string            `json:"target,omitempty"`  // symlink target
	Content []pack.ID         `json:"content,omitempty"` // data blobs, in order
	Subtree *pack.ID          `json:"subtree,omitempty"` // tree blob of a dir
	Meta    map[string]string `json:"meta,omitempty"`
	// Chunks, when set, has one entry per Content blob: the sparse key
	// index of a table (dbexport), as written before table pages.
	Chunks []ChunkInfo `json:"chunks,omitempty"`
	// Pages, when set, is the root page of the node's chunk list, which
	// then stands for Content and Chunks (docs/design.md, "Table pages").
	Pages *pack.ID `json:"pages,omitempty"`
	// Log, when set, is the data blob of the table's change log against
	// the chunk list of Pages, its base (docs/design.md, "Table change
	// logs"): the node's rows are the base's with the log applied.
	Log *pack.ID `json:"log,omitempty"`
}

// ChunkInfo describes one content blob of a table node: the primary key of
// its first row (COPY text fields of the key columns, tab-separated), its
// row count and its length in bytes.
type ChunkInfo struct {
	FirstKey string `json:"first_key"`
	Rows     uint64 `json:"rows"`
	Bytes    uint64 `json:"bytes"`
}

// Tree is a folder's listing: nodes sorted by name, names unique.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// EncodeTree returns the canonical encoding of t: JSON with nodes sorted by
// name and map keys sorted, so identical trees have identical bytes and so
// the same blob ID. It refuses a tree DecodeTree would refuse, so that no
// writer saves a snapshot its readers cannot read.
func EncodeTree(t *Tree) ([]byte, error) {
	nodes := append([]Node(nil), t.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	utf8Names := true
	for i, n := range nodes {
		if err := n.validate(); err != nil {
			return nil, fmt.Errorf("tree: %w", err)
		}
		if i > 0 && n.Name == nodes[i-1].Name {
			return nil, fmt.Errorf("tree has two nodes named %q", n.Name)
		}
		utf8Names = utf8Names && utf8.ValidString(n.Name)
	}
	if nodes == nil {
		nodes = []Node{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Tree{Nodes: nodes}); err != nil {
		return nil, err
	}
	// JSON writes a name that is not UTF-8 with U+FFFD in place of the
	// bytes, which may leave two nodes of one name or out of order: read
	// such a tree back as every reader will.
	if !utf8Names {
		if _, err := DecodeTree(buf.Bytes()); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// DecodeTree parses and validates a tree blob.
func DecodeTree(b []byte) (*Tree, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	t := &Tree{}
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	for i, n := range t.Nodes {
		if err := n.validate(); err != nil {
			return nil, fmt.Errorf("tree: node %d: %w", i, err)
		}
		if i > 0 && t.Nodes[i-1].Name >= n.Name {
			return nil, fmt.Errorf("tree: nodes not sorted by unique name at %q", n.Name)
		}
	}
	return t, nil
}

// CheckNodeName returns an error wrapping ErrInvalidNodeName when name
// cannot name a node of a tree.
func CheckNodeName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w %q", ErrInvalidNodeName, name)
	}
	return nil
}

func (n Node) validate() error {
	if err := CheckNodeName(n.Name); err != nil {
		return err
	}
	if len(n.Chunks) > 0 && len(n.Chunks) != len(n.Content) {
		return fmt.Errorf("node %q has %d chunk entries for %d content blobs", n.Name, len(n.Chunks), len(n.Content))
	}
	if n.Pages != nil && (len(n.Content) > 0 || len(n.Chunks) > 0 || n.Kind != NodeTable) {
		return fmt.Errorf("node %q has pages besides content, or is no table", n.Name)
	}
	if n.Log != nil && n.Pages == nil {
		return fmt.Errorf("node %q has a change log but no pages", n.Name)
	}
	switch n.Kind {
	case NodeDir:
		if n.Subtree == nil {
			return fmt.Errorf("dir %q has no subtree", n.Name)
		}
	case NodeFile, NodeStream, NodeTable, NodeSymlink:
		if n.Subtree != nil {
			return fmt.Errorf("%s %q has a subtree", n.Kind, n.Name)
		}
	default:
		return fmt.Errorf("node %q: unknown kind %q", n.Name, n.Kind)
	}
	return nil
}

// SaveTree stores t as a tree blob and returns its ID.
func (r *Repository) SaveTree(ctx context.Context, t *Tree) (pack.ID, error) {
	b, err := EncodeTree(t)
	if err != nil {
		return pack.ID{}, err
	}
	res, err := r.SaveBlob(ctx, pack.TreeBlob, b, pack.ID{})
	return res.ID, err
}

// LoadTree loads and decodes the tree blob id.
func (r *Repository) LoadTree(ctx context.Context, id pack.ID) (*Tree, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("loading tree: %w", err)
	}
	t, err := DecodeTree(b)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w: %v", id, ErrDamaged, err)
	}
	return t, nil
}

// Find returns the node named name, or nil.
func (t *Tree) Find(name string) *Node {
	i := sort.Search(len(t.Nodes), func(i int) bool { return t.Nodes[i].Name >= name })
	if i < len(t.Nodes) && t.Nodes[i].Name == name {
		return &t.Nodes[i]
	}
	return nil
}
