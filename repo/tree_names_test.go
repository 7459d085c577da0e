package repo_test

import (
	"errors"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
)

// TestEncodeTreeRefusesWhatDecodeRefuses: no writer saves a tree its
// readers refuse. Before, a table named "a/b" was saved as node "a/b"
// and the snapshot could not be read at all.
func TestEncodeTreeRefusesWhatDecodeRefuses(t *testing.T) {
	file := func(name string) repo.Node { return repo.Node{Name: name, Kind: repo.NodeFile} }
	for _, name := range []string{"a/b", "", ".", "..", "/", "a\x00b"} {
		_, err := repo.EncodeTree(&repo.Tree{Nodes: []repo.Node{file("ok"), file(name)}})
		if !errors.Is(err, repo.ErrInvalidNodeName) || !strings.Contains(err.Error(), "invalid name") {
			t.Errorf("EncodeTree of a node named %q: %v, want repo.ErrInvalidNodeName", name, err)
		}
		if err := repo.CheckNodeName(name); !errors.Is(err, repo.ErrInvalidNodeName) {
			t.Errorf("CheckNodeName(%q) = %v", name, err)
		}
	}
	// JSON writes both names as "\ufffd": two nodes of one name.
	if _, err := repo.EncodeTree(&repo.Tree{Nodes: []repo.Node{file("\xff"), file("\xfe")}}); err == nil {
		t.Error("EncodeTree of nodes named \\xff and \\xfe, which decode as one name: no error")
	}
	// A node DecodeTree refuses for other reasons than its name.
	sub := pack.ID{1}
	if _, err := repo.EncodeTree(&repo.Tree{Nodes: []repo.Node{{Name: "f", Kind: repo.NodeFile, Subtree: &sub}}}); err == nil {
		t.Error("EncodeTree of a file with a subtree: no error")
	}
	// What it encodes decodes.
	for _, name := range []string{"a%2Fb", "%", "%2E%2E", "line\nbreak", "ü%2F表", "\xff"} {
		b, err := repo.EncodeTree(&repo.Tree{Nodes: []repo.Node{file(name)}})
		if err != nil {
			t.Errorf("EncodeTree of a node named %q: %v", name, err)
			continue
		}
		if _, err := repo.DecodeTree(b); err != nil {
			t.Errorf("DecodeTree of the tree of a node named %q: %v", name, err)
		}
	}
}
