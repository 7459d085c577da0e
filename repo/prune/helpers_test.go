package prune_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// history is a series of snapshots of one stream of slots: each snapshot
// changes a few slots, and a changed slot is stored as a delta against its
// previous version, as table backups store changed chunks.
type history struct {
	r     *repo.Repository
	rng   *rand.Rand
	slots [][]byte
	ids   []pack.ID
	// want maps each snapshot to the content it must restore.
	want map[pack.ID][][]byte
	sns  []pack.ID
}

const slotSize = 8 << 10

func newHistory(r *repo.Repository, slots int) *history {
	h := &history{r: r, rng: rand.New(rand.NewPCG(1, 2)), want: map[pack.ID][][]byte{}}
	for range slots {
		h.slots = append(h.slots, h.block())
		h.ids = append(h.ids, pack.ID{})
	}
	return h
}

// block is half random (incompressible) and half text.
func (h *history) block() []byte {
	b := make([]byte, slotSize)
	for i := 0; i < slotSize/2; i += 8 {
		v := h.rng.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	copy(b[slotSize/2:], bytes.Repeat([]byte("customer row\t"), slotSize/2/13+1))
	return b
}

// snapshot changes `changes` slots a little and saves a snapshot at t.
func (h *history) snapshot(t testing.TB, at time.Time, changes int) pack.ID {
	t.Helper()
	ctx := context.Background()
	for range changes {
		k := h.rng.IntN(len(h.slots))
		next := bytes.Clone(h.slots[k])
		next[h.rng.IntN(slotSize/2)] ^= 0xff
		h.slots[k] = next
	}
	node := repo.Node{Name: "customers", Kind: repo.NodeStream}
	for k, s := range h.slots {
		res, err := h.r.SaveBlob(ctx, pack.DataBlob, s, h.ids[k])
		if err != nil {
			t.Fatal(err)
		}
		h.ids[k] = res.ID
		node.Content = append(node.Content, res.ID)
		node.Size += uint64(len(s))
	}
	tree, err := h.r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{node}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &repo.Snapshot{Time: at, Host: "h", Source: "stdin:customers", Paths: []string{"/customers"}, Tree: tree}
	if err := h.r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, len(h.slots))
	copy(want, h.slots)
	h.want[sn.ID] = want
	h.sns = append(h.sns, sn.ID)
	return sn.ID
}

// forget removes the snapshot files of the first n snapshots.
func (h *history) forget(t testing.TB, n int) {
	t.Helper()
	for _, id := range h.sns[:n] {
		if err := h.r.Backend().Remove(context.Background(), backend.Handle{Type: backend.SnapshotFile, Name: id.String()}); err != nil {
			t.Fatal(err)
		}
		delete(h.want, id)
	}
	h.sns = h.sns[n:]
}

// verify restores every remaining snapshot through a fresh handle and
// compares it with what was saved.
func (h *history) verify(t testing.TB, r *repo.Repository) {
	t.Helper()
	ctx := context.Background()
	for id, want := range h.want {
		sn, err := r.LoadSnapshot(ctx, id)
		if err != nil {
			t.Fatalf("snapshot %s: %v", id.Short(), err)
		}
		tree, err := r.LoadTree(ctx, sn.Tree)
		if err != nil {
			t.Fatalf("snapshot %s: %v", id.Short(), err)
		}
		for k, blob := range tree.Nodes[0].Content {
			got, err := r.LoadBlob(ctx, blob)
			if err != nil {
				t.Fatalf("snapshot %s slot %d: %v", id.Short(), k, err)
			}
			if !bytes.Equal(got, want[k]) {
				t.Fatalf("snapshot %s slot %d: content differs", id.Short(), k)
			}
		}
	}
}

// files lists every stored file, for asserting that nothing changed.
func files(t testing.TB, be backend.Storage) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, ft := range backend.FileTypes {
		err := be.List(context.Background(), ft, func(fi backend.FileInfo) error {
			out[fmt.Sprint(fi.Handle)] = fi.Size
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func hour(i int) time.Time {
	return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
}
