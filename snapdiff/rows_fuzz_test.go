package snapdiff

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
)

// memLoader serves chunks from memory.
type memLoader map[pack.ID][]byte

func (m memLoader) LoadBlob(_ context.Context, id pack.ID) ([]byte, error) {
	b, ok := m[id]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return b, nil
}

func (m memLoader) LoadBlobOnceInto(ctx context.Context, id pack.ID, dst []byte) ([]byte, error) {
	b, err := m.LoadBlob(ctx, id)
	return append(dst, b...), err
}

func (m memLoader) LoadTree(context.Context, pack.ID) (*repo.Tree, error) {
	return nil, errors.New("no trees here")
}

// sliceStream streams a chunk list held in memory.
func sliceStream(refs []repo.ChunkRef) *chunkStream {
	s := &chunkStream{ch: make(chan repo.ChunkRef, len(refs)), errc: make(chan error, 1)}
	for _, r := range refs {
		s.ch <- r
	}
	close(s.ch)
	s.errc <- nil
	return s
}

// chunked cuts rows (COPY lines without "\n") into chunks as a backup
// would, content-defined: a chunk ends after a row whose hash ends in a
// chosen bit pattern, so an unchanged run of rows gives unchanged chunks.
func chunked(rows []string, l memLoader) []repo.ChunkRef {
	var refs []repo.ChunkRef
	var cur []string
	flush := func() {
		if len(cur) == 0 {
			return
		}
		data := []byte(strings.Join(cur, "\n") + "\n")
		id := pack.ID(sha256.Sum256(data))
		l[id] = data
		key, _, _ := strings.Cut(cur[0], "\t")
		refs = append(refs, repo.ChunkRef{ID: id, Index: uint64(len(refs)), HasInfo: true,
			Info: repo.ChunkInfo{FirstKey: key, Rows: uint64(len(cur)), Bytes: uint64(len(data))}})
		cur = nil
	}
	for _, r := range rows {
		cur = append(cur, r)
		if h := sha256.Sum256([]byte(r)); h[0]%4 == 0 {
			flush()
		}
	}
	flush()
	return refs
}

// FuzzSpanRows derives two versions of a keyed table from the input,
// diffs them through the aligner and spans, and checks the changes
// against a diff of the whole tables by key; with a leading 0xff the rest
// of the input is also stored as a chunk of B, which must give an error
// or changes, never a panic.
func FuzzSpanRows(f *testing.F) {
	f.Add([]byte("hello world, this is a seed"))
	f.Add([]byte{0xff, 'x', '\t', 'y', '\n'})
	f.Add([]byte{0xff, '1', '\t', '\\', '\n'})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := len(data) > 0 && data[0] == 0xff
		a, b := map[int]string{}, map[int]string{}
		for i := 0; i < 300; i++ {
			a[i*3] = fmt.Sprintf("v%d", i)
			b[i*3] = a[i*3]
		}
		// Each byte edits B: delete, update, or insert a row near it.
		for i, c := range data {
			k := (int(c)*7 + i*13) % 900
			switch c % 3 {
			case 0:
				delete(b, k-k%3)
			case 1:
				b[k-k%3] = fmt.Sprintf("u%d", i)
			case 2:
				b[k] = fmt.Sprintf("n%d", i)
			}
		}
		l := memLoader{}
		rowsOf := func(m map[int]string) []string {
			keys := make([]int, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			out := make([]string, len(keys))
			for i, k := range keys {
				out[i] = fmt.Sprintf("%d\t%s", k, m[k])
			}
			return out
		}
		ca, cb := chunked(rowsOf(a), l), chunked(rowsOf(b), l)
		if raw {
			id := pack.ID(sha256.Sum256(data))
			l[id] = data[1:]
			cb = append(cb, repo.ChunkRef{ID: id, HasInfo: true, Info: repo.ChunkInfo{FirstKey: "999999"}})
		}
		tab := &dbexport.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []dbexport.Column{{Name: "id", Kind: dbexport.KindInt}, {Name: "v", Kind: dbexport.KindText}}}
		layout := newLayout(tab, tab)
		td := &TableDiff{Name: "t", A: tab, B: tab, Columns: layout.columns, Key: layout.key, Keyed: layout.keyed}
		d := &tableDiffer{TableDiff: td, l: l, name: "t", snapA: "a", snapB: "b", layout: layout}
		al := newAligner(sliceStream(ca), sliceStream(cb), dbexport.CompareKeys)
		got := map[string]string{}
		err := d.spans(context.Background(), al, spanSkipper{}, 3, func(changes []Change) error {
			for _, c := range changes {
				k := c.KeyText()
				if _, dup := got[k]; dup {
					return fmt.Errorf("key %s changed twice", k)
				}
				got[k] = string(c.Op)
			}
			return nil
		})
		if raw {
			return // any error is fine; no panic is the point
		}
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for k, v := range a {
			if nv, ok := b[k]; !ok {
				want[fmt.Sprint(k)] = string(OpDelete)
			} else if nv != v {
				want[fmt.Sprint(k)] = string(OpUpdate)
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				want[fmt.Sprint(k)] = string(OpInsert)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
		if len(data) < 20 && len(ca) > 4 && al.shared == 0 {
			t.Fatalf("%d edits left no chunk shared among %d", len(data), len(ca))
		}
	})
}
