package main

import (
	"bytes"
	"strings"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
)

func TestCat(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	data := sampleData(t)
	snap := c.backupStdin(data, "export.tsv", "--tag", "cat")
	sns := c.snapshots()
	if len(sns) != 1 || sns[0].ID != snap {
		t.Fatalf("snapshots --json = %+v, want %s", sns, snap)
	}
	password := strings.TrimSpace(string(readFile(t, c.pwFile)))

	var cfg repo.Config
	c.catJSON(&cfg, "config")
	var tree repo.Tree
	var sn struct {
		ID string `json:"id"`
		repo.Snapshot
	}
	var idx index.File
	var header []pack.Blob
	var key repo.KeyFile
	indexName := c.files("index")[0]
	keyName := c.files("keys")[0]
	packs := c.packs()

	tests := []struct {
		name  string
		args  []string
		into  any // nil: raw output
		check func(t *testing.T, out string)
	}{
		{"config", []string{"config"}, &cfg, func(t *testing.T, out string) {
			if cfg.Version != repo.JournalVersion || len(cfg.ID) != 32 || cfg.PackSize != 1<<20 || cfg.ChunkerPolynomial == 0 {
				t.Errorf("config = %+v, want version %d, a 32-character ID and 1 MiB packs", cfg, repo.JournalVersion)
			}
		}},
		{"snapshot by full ID", []string{"snapshot", snap}, &sn, func(t *testing.T, out string) {
			if sn.ID != snap || sn.Tree.String() != sns[0].Tree || !sn.HasTag("cat") || sn.Summary.BytesRead != uint64(len(data)) {
				t.Errorf("cat snapshot = %+v, want %s with tree %s", sn, snap, sns[0].Tree)
			}
		}},
		{"snapshot by prefix", []string{"snapshot", snap[:6]}, &sn, func(t *testing.T, out string) {
			if sn.ID != snap {
				t.Errorf("cat snapshot %s = %s", snap[:6], sn.ID)
			}
		}},
		{"snapshot latest", []string{"snapshot", "latest"}, &sn, func(t *testing.T, out string) {
			if sn.ID != snap {
				t.Errorf("cat snapshot latest = %s, want %s", sn.ID, snap)
			}
		}},
		{"tree", []string{"tree", sns[0].Tree}, &tree, func(t *testing.T, out string) {
			if len(tree.Nodes) != 1 || tree.Nodes[0].Name != "export.tsv" || tree.Nodes[0].Kind != repo.NodeStream ||
				tree.Nodes[0].Size != uint64(len(data)) || len(tree.Nodes[0].Content) < 2 {
				t.Errorf("cat tree = %+v, want one stream node of %d bytes in several blobs", tree, len(data))
			}
		}},
		{"index", []string{"index", indexName[:8]}, &idx, func(t *testing.T, out string) {
			blobs := 0
			for _, p := range idx.Packs {
				if packs[p.PackID.String()] == "" {
					t.Errorf("cat index names pack %s, which is not in data/", p.PackID)
				}
				blobs += len(p.Blobs)
			}
			// The root tree is stored twice, in two packs.
			want := len(tree.Nodes[0].Content) + repo.TreeCopies
			if len(idx.Packs) != len(packs) || blobs != want {
				t.Errorf("cat index lists %d packs and %d blobs, want %d packs and %d blobs", len(idx.Packs), blobs, len(packs), want)
			}
		}},
		{"key", []string{"key", keyName[:8]}, &key, func(t *testing.T, out string) {
			if key.KDF != "argon2id" || len(key.Salt) != 32 || len(key.Data) == 0 {
				t.Errorf("cat key = %+v", key)
			}
		}},
		{"blob", []string{"blob", "@blob"}, nil, func(t *testing.T, out string) {
			if len(out) == 0 || !bytes.HasPrefix(data, []byte(out)) {
				t.Errorf("cat blob of the first content blob (%d bytes) is not the start of the data", len(out))
			}
		}},
		{"blob by prefix", []string{"blob", "@blob8"}, nil, func(t *testing.T, out string) {
			if len(out) == 0 || !bytes.HasPrefix(data, []byte(out)) {
				t.Errorf("cat blob by prefix (%d bytes) is not the start of the data", len(out))
			}
		}},
		{"tree by prefix", []string{"tree", sns[0].Tree[:8]}, &tree, func(t *testing.T, out string) {
			if len(tree.Nodes) != 1 || tree.Nodes[0].Name != "export.tsv" {
				t.Errorf("cat tree %s = %+v", sns[0].Tree[:8], tree)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) == 2 && args[1] == "@blob" {
				args = []string{"blob", tree.Nodes[0].Content[0].String()}
			}
			if len(args) == 2 && args[1] == "@blob8" {
				args = []string{"blob", tree.Nodes[0].Content[0].String()[:8]}
			}
			d := c.as(t, c.pwFile)
			var out string
			if tt.into != nil {
				out = d.catJSON(tt.into, args...)
			} else {
				out = d.ok(append([]string{"cat"}, args...)...)
			}
			tt.check(t, out)
			if strings.Contains(out, password) {
				t.Errorf("cat %s prints the password", strings.Join(args, " "))
			}
		})
	}

	// Every pack header lists blobs of one type whose offsets tile the
	// pack, and together they hold every entry of the index.
	t.Run("pack-header", func(t *testing.T) {
		d := c.as(t, c.pwFile)
		type entry struct{ blob, pack string }
		inIndex := map[entry]bool{}
		for _, p := range idx.Packs {
			for _, b := range p.Blobs {
				inIndex[entry{b.ID.String(), p.PackID.String()}] = true
			}
		}
		for id := range packs {
			d.catJSON(&header, "pack-header", id[:10])
			var next uint32
			for _, b := range header {
				e := entry{b.ID.String(), id}
				if b.Offset != next || b.Type != header[0].Type || !inIndex[e] {
					t.Errorf("pack %s: blob %+v does not follow at %d, mixes types, or is not indexed", id, b, next)
				}
				delete(inIndex, e)
				next = b.Offset + b.Length
			}
		}
		if len(inIndex) > 0 {
			t.Errorf("%d indexed blobs are in no pack header", len(inIndex))
		}
	})

	for _, args := range [][]string{
		{"cat"},
		{"cat", "snapshot"},
		{"cat", "nonsense", "x"},
		{"cat", "snapshot", "ffffffff"},
		{"cat", "index", "ab"},
		{"cat", "blob", "not-hex"},
		{"cat", "tree", strings.Repeat("0", 64)},
		{"cat", "blob", "abc"},
		{"cat", "blob", "0000000000"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := c.as(t, c.pwFile).run(args...)
			noPanic(t, out, errOut)
			if code != exitError || out != "" || !strings.HasPrefix(errOut, "strata: ") {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 1 with only an error message", code, out, errOut)
			}
		})
	}
}
