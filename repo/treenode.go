package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"strata/pack"
)

// This file reads one node of a tree blob without decoding the others: a
// reader that looks up one table in the root trees of hundreds of
// snapshots (history) would otherwise decode every table's definition
// and key index in each (docs/design.md, "Trees", "Reading one node").

// FindTreeNode returns the node named name of the tree blob b, decoding
// only that node, or nil when the tree has none. It relies on the
// canonical encoding of EncodeTree, `{"nodes":[{"name":"...",...},...]}`:
// nodes are skipped by their JSON structure, their values not decoded,
// until the one named name, which is decoded and validated as
// DecodeTree does; a node named after it ends the search, nodes being
// sorted by name (the rest is still skipped, to the end of the array
// and the object). Where b is not in that form (whitespace aside) or a
// name would need decoding (an escape, a byte outside UTF-8, a second
// member that encoding/json would take for the name) it decodes b whole
// with DecodeTree instead, so on any blob DecodeTree accepts it returns
// what DecodeTree's Find returns. It does not check the nodes it skips:
// a blob DecodeTree refuses may still give a node (check reports the
// tree).
func FindTreeNode(b []byte, name string) (*Node, error) {
	n, ok := findNodeCanonical(b, name)
	if ok {
		return n, nil
	}
	t, err := DecodeTree(b)
	if err != nil {
		return nil, err
	}
	if n := t.Find(name); n != nil {
		found := *n
		return &found, nil
	}
	return nil, nil
}

// LoadTreeNode loads tree blob id through l and returns its node named
// name (FindTreeNode), or nil when it has none.
func LoadTreeNode(ctx context.Context, l BlobLoader, id pack.ID, name string) (*Node, error) {
	b, err := l.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("loading tree: %w", err)
	}
	n, err := FindTreeNode(b, name)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w: %v", id, ErrDamaged, err)
	}
	return n, nil
}

// findNodeCanonical is FindTreeNode's scan; ok is false when b is not in
// the form it reads, and the caller decodes b whole.
func findNodeCanonical(b []byte, name string) (n *Node, ok bool) {
	s := treeScanner{b: b}
	if !s.literal(`{`) || !s.key("nodes") || !s.literal(`[`) {
		return nil, false
	}
	if s.literal(`]`) {
		return nil, s.end()
	}
	decided := false
	for {
		if decided {
			// The rest is only checked to be one array closing the
			// object: another member ("nodes" again) would replace it.
			if !s.skipValue(0) {
				return nil, false
			}
		} else {
			start := s.skipSpace()
			nodeName, ok := s.node()
			if !ok {
				return nil, false
			}
			switch c := bytes.Compare(nodeName, []byte(name)); {
			case c == 0:
				n = &Node{}
				dec := json.NewDecoder(bytes.NewReader(b[start:s.i]))
				dec.DisallowUnknownFields()
				if err := dec.Decode(n); err != nil || n.Name != name || n.validate() != nil {
					return nil, false // DecodeTree says why
				}
				decided = true
			case c > 0:
				// Sorted by name: no later node is the one. (A tree
				// whose names are not sorted is one DecodeTree refuses.)
				decided = true
			}
		}
		if s.literal(`]`) {
			return n, s.end()
		}
		if !s.literal(`,`) {
			return nil, false
		}
	}
}

// treeScanner walks JSON text without decoding it.
type treeScanner struct {
	b []byte
	i int
}

func (s *treeScanner) skipSpace() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// literal consumes lit after any whitespace.
func (s *treeScanner) literal(lit string) bool {
	s.skipSpace()
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// end reports whether only whitespace follows.
func (s *treeScanner) end() bool {
	return s.literal(`}`) && s.skipSpace() == len(s.b)
}

// key consumes the member name k (spelled exactly) and its colon.
func (s *treeScanner) key(k string) bool {
	return s.literal(`"`+k+`"`) && s.literal(`:`)
}

// plainString consumes a string without escapes and returns its bytes;
// ok is false for any other string (or none).
func (s *treeScanner) plainString() (str []byte, ok bool) {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	j := bytes.IndexByte(s.b[s.i+1:], '"')
	if j < 0 {
		return nil, false
	}
	str = s.b[s.i+1 : s.i+1+j]
	for _, c := range str {
		if c == '\\' || c < 0x20 {
			return nil, false
		}
	}
	if !utf8.Valid(str) {
		return nil, false // encoding/json would replace the bytes
	}
	s.i += j + 2
	return str, true
}

// node consumes one node object whose first member is its name and
// returns the name. No later member may be one encoding/json would take
// for the name (keys match case-insensitively), nor need decoding.
func (s *treeScanner) node() (name []byte, ok bool) {
	if !s.literal(`{`) || !s.key("name") {
		return nil, false
	}
	if name, ok = s.plainString(); !ok {
		return nil, false
	}
	for {
		if s.literal(`}`) {
			return name, true
		}
		if !s.literal(`,`) {
			return nil, false
		}
		k, ok := s.plainString()
		if !ok || bytes.EqualFold(k, []byte("name")) || !s.literal(`:`) || !s.skipValue(0) {
			return nil, false
		}
	}
}

// maxSkipDepth bounds the nesting skipValue follows: a tree node's values
// are at most three deep (meta, content, chunks).
const maxSkipDepth = 16

// skipValue consumes one JSON value of any kind, checking only its
// structure (brackets, strings, commas and colons); a value it gets
// wrong is one the node's decoder (or DecodeTree) refuses.
func (s *treeScanner) skipValue(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	s.skipSpace()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.skipString()
	case '{':
		s.i++
		if s.literal(`}`) {
			return true
		}
		for {
			s.skipSpace()
			if !s.skipString() || !s.literal(`:`) || !s.skipValue(depth+1) {
				return false
			}
			if s.literal(`}`) {
				return true
			}
			if !s.literal(`,`) {
				return false
			}
		}
	case '[':
		s.i++
		if s.literal(`]`) {
			return true
		}
		for {
			if !s.skipValue(depth + 1) {
				return false
			}
			if s.literal(`]`) {
				return true
			}
			if !s.literal(`,`) {
				return false
			}
		}
	}
	// A number, true, false or null: up to the next delimiter.
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.i > start
		case '"', '{', '[', ':':
			return false
		}
		s.i++
	}
	return false
}

// skipString consumes a string, escapes included.
func (s *treeScanner) skipString() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			s.i = j + 1
			return true
		}
	}
	return false
}
