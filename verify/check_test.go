package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/crypto"
	"strata/verify"
)

var (
	headerOnly = verify.CheckOptions{}
	readData   = verify.CheckOptions{ReadData: true, Workers: 2}
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		opts   verify.CheckOptions
		want   func(f *fixture) []verify.Finding
		ok     bool
	}{
		{
			name: "clean",
			opts: headerOnly,
			ok:   true,
		},
		{
			name: "clean read data",
			opts: readData,
			ok:   true,
		},
		{
			name:   "missing data pack",
			damage: func(t *testing.T, f *fixture) { f.remove(t, backend.PackFile, f.p1) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				// S2 loses data too: its delta blob is built on base.
				return []verify.Finding{&verify.MissingPack{Pack: f.p1, Blobs: ids(f.base, f.plain1), Snapshots: ids(f.s1, f.s2)}}
			},
		},
		{
			name:   "missing tree pack",
			damage: func(t *testing.T, f *fixture) { f.remove(t, backend.PackFile, f.p3) },
			opts:   readData,
			want: func(f *fixture) []verify.Finding {
				// P3b holds the second copies: nothing is lost.
				return []verify.Finding{
					&verify.MissingPack{Pack: f.p3, Blobs: ids(f.sub, f.root1, f.root2)},
					&verify.SingleCopyTrees{Trees: ids(f.sub, f.root1, f.root2)},
				}
			},
		},
		{
			// Before the journal nothing recorded that it existed, and
			// check found nothing.
			name:   "deleted snapshot file",
			damage: func(t *testing.T, f *fixture) { f.remove(t, backend.SnapshotFile, f.s1) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.MissingFile{Kind: backend.SnapshotFile, ID: f.s1, Snapshots: ids(f.s1)}}
			},
		},
		{
			// Stored without a record (a writer killed between saving and
			// recording it): a notice, nothing else.
			name: "snapshot file without a record",
			damage: func(t *testing.T, f *fixture) {
				r := f.open(t)
				plain, err := r.LoadFile(context.Background(), backend.SnapshotFile, f.s1)
				if err != nil {
					t.Fatal(err)
				}
				sealed := r.Key().Seal(nil, plain) // a new nonce: another file ID
				h := backend.Handle{Type: backend.SnapshotFile, Name: crypto.FileID(sealed).String()}
				if err := f.be.Save(context.Background(), h, backend.NewByteReader(sealed)); err != nil {
					t.Fatal(err)
				}
			},
			opts: headerOnly,
			ok:   true,
			want: func(f *fixture) []verify.Finding {
				var stray pack.ID
				_ = f.be.List(context.Background(), backend.SnapshotFile, func(fi backend.FileInfo) error {
					if id, _ := pack.ParseID(fi.Handle.Name); id != f.s1 && id != f.s2 {
						stray = id
					}
					return nil
				})
				return []verify.Finding{&verify.UnrecordedFiles{Files: []repo.JournalKey{{Kind: backend.SnapshotFile, ID: stray}}}}
			},
		},
		{
			name: "missing both tree packs",
			damage: func(t *testing.T, f *fixture) {
				f.remove(t, backend.PackFile, f.p3)
				f.remove(t, backend.PackFile, f.p3b)
			},
			opts: readData,
			want: func(f *fixture) []verify.Finding {
				missing := []verify.Finding{
					&verify.MissingPack{Pack: f.p3, Blobs: ids(f.sub, f.root1, f.root2), Snapshots: ids(f.s1, f.s2)},
					&verify.MissingPack{Pack: f.p3b, Blobs: ids(f.sub, f.root1, f.root2), Snapshots: ids(f.s1, f.s2)},
				}
				if ids(f.p3, f.p3b)[0] != f.p3 {
					missing[0], missing[1] = missing[1], missing[0]
				}
				return missing
			},
		},
		{
			name:   "missing index file",
			damage: func(t *testing.T, f *fixture) { f.remove(t, backend.IndexFile, f.i1) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{
					&verify.MissingFile{Kind: backend.IndexFile, ID: f.i1},
					&verify.MissingBase{Blob: f.delta, Base: f.base, Snapshots: ids(f.s2), BaseInPack: f.p1},
					&verify.MissingBlob{Blob: f.base, Type: pack.DataBlob, Snapshot: f.s1, Path: "/db/a.csv", Snapshots: ids(f.s1), InPack: f.p1},
					&verify.MissingBlob{Blob: f.plain1, Type: pack.DataBlob, Snapshot: f.s1, Path: "/raw.bin", Snapshots: ids(f.s1), InPack: f.p1},
					&verify.UnreferencedPacks{Packs: ids(f.p1)},
				}
			},
		},
		{
			name:   "missing tree index file",
			damage: func(t *testing.T, f *fixture) { f.remove(t, backend.IndexFile, f.i3) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				// Met in the order of snapshot IDs.
				// The lower of the two packs that hold each tree is named.
				in := ids(f.p3, f.p3b)[0]
				missing := []verify.Finding{
					&verify.MissingBlob{Blob: f.root1, Type: pack.TreeBlob, Snapshot: f.s1, Path: "/", Snapshots: ids(f.s1), InPack: in},
					&verify.MissingBlob{Blob: f.root2, Type: pack.TreeBlob, Snapshot: f.s2, Path: "/", Snapshots: ids(f.s2), InPack: in},
				}
				if ids(f.s1, f.s2)[0] != f.s1 {
					missing[0], missing[1] = missing[1], missing[0]
				}
				missing = append([]verify.Finding{&verify.MissingFile{Kind: backend.IndexFile, ID: f.i3}}, missing...)
				return append(missing, &verify.UnreferencedPacks{Packs: ids(f.p3, f.p3b)})
			},
		},
		{
			name:   "damaged index file",
			damage: func(t *testing.T, f *fixture) { f.flip(t, backend.IndexFile, f.i2, 30) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{
					&verify.DamagedIndexFile{File: f.i2},
					&verify.MissingBlob{Blob: f.delta, Type: pack.DataBlob, Snapshot: f.s2, Path: "/b.csv", Snapshots: ids(f.s2), InPack: f.p2},
					&verify.MissingBlob{Blob: f.plain2, Type: pack.DataBlob, Snapshot: f.s2, Path: "/only2.csv", Snapshots: ids(f.s2), InPack: f.p2},
					&verify.UnreferencedPacks{Packs: ids(f.p2)},
				}
			},
		},
		{
			name:   "damaged snapshot file",
			damage: func(t *testing.T, f *fixture) { f.flip(t, backend.SnapshotFile, f.s1, 40) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.DamagedSnapshot{Snapshot: f.s1}}
			},
		},
		{
			name:   "damaged base of a delta blob",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.base) },
			opts:   readData,
			want: func(f *fixture) []verify.Finding {
				// S2 names only the delta blob, yet loses it with its base.
				return []verify.Finding{&verify.DamagedPack{Pack: f.p1, Blobs: ids(f.base), Snapshots: ids(f.s1, f.s2), DataRead: true}}
			},
		},
		{
			name:   "damaged blob is not seen without read data",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.base) },
			opts:   headerOnly,
			ok:     true,
		},
		{
			name:   "damaged base outside the subset",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.base) },
			opts:   verify.CheckOptions{}, // Subset set by the test to read P2 only
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.DamagedBlob{Blob: f.base, Snapshots: ids(f.s1, f.s2)}}
			},
		},
		{
			name:   "damaged delta blob",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.delta) },
			opts:   readData,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.DamagedPack{Pack: f.p2, Blobs: ids(f.delta), Snapshots: ids(f.s2), DataRead: true}}
			},
		},
		{
			// Every copy of a tree is loaded, so the damaged one is found
			// without reading the data; the other copy serves.
			name:   "damaged tree blob without read data",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.sub) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{
					&verify.DamagedPack{Pack: f.p3, Blobs: ids(f.sub)},
					&verify.SingleCopyTrees{Trees: ids(f.sub)},
				}
			},
		},
		{
			name:   "damaged tree blob in both copies",
			damage: func(t *testing.T, f *fixture) { f.flipInCopies(t, f.sub) },
			opts:   headerOnly,
			want: func(f *fixture) []verify.Finding {
				damaged := []verify.Finding{
					&verify.DamagedPack{Pack: f.p3, Blobs: ids(f.sub), Snapshots: ids(f.s1)},
					&verify.DamagedPack{Pack: f.p3b, Blobs: ids(f.sub), Snapshots: ids(f.s1)},
				}
				if ids(f.p3, f.p3b)[0] != f.p3 {
					damaged[0], damaged[1] = damaged[1], damaged[0]
				}
				return damaged
			},
		},
		{
			name:   "damaged tree blob with read data",
			damage: func(t *testing.T, f *fixture) { f.flipInBlob(t, f.root2) },
			opts:   readData,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{
					&verify.DamagedPack{Pack: f.p3, Blobs: ids(f.root2), DataRead: true},
					&verify.SingleCopyTrees{Trees: ids(f.root2)},
				}
			},
		},
		{
			name: "damaged pack header",
			damage: func(t *testing.T, f *fixture) {
				f.flip(t, backend.PackFile, f.p2, len(f.load(t, backend.PackFile, f.p2))-10)
			},
			opts: headerOnly,
			want: func(f *fixture) []verify.Finding {
				// The blobs still load through the index.
				return []verify.Finding{&verify.DamagedPack{Pack: f.p2}}
			},
		},
		{
			name: "index does not match pack header",
			damage: func(t *testing.T, f *fixture) {
				rewriteIndexFile(t, f, f.i2, func(b *pack.Blob) {
					if b.ID == f.plain2 {
						b.Length--
					}
				})
			},
			opts: headerOnly,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.PackHeaderMismatch{Pack: f.p2, Blobs: ids(f.plain2), Snapshots: ids(f.s2)}}
			},
		},
		{
			name: "index does not match pack header with read data",
			damage: func(t *testing.T, f *fixture) {
				rewriteIndexFile(t, f, f.i2, func(b *pack.Blob) {
					if b.ID == f.plain2 {
						b.Length--
					}
				})
			},
			opts: readData,
			want: func(f *fixture) []verify.Finding {
				// The pack is intact; only the index entry is wrong.
				return []verify.Finding{&verify.PackHeaderMismatch{Pack: f.p2, Blobs: ids(f.plain2), Snapshots: ids(f.s2)}}
			},
		},
		{
			name: "index entry differs harmlessly from the header",
			damage: func(t *testing.T, f *fixture) {
				// A type the header does not say, at the right bytes:
				// loads still work, the index is still wrong.
				rewriteIndexFile(t, f, f.i2, func(b *pack.Blob) {
					if b.ID == f.plain2 {
						b.Type = pack.TreeBlob
					}
				})
			},
			opts: readData,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.PackHeaderMismatch{Pack: f.p2, Blobs: ids(f.plain2)}}
			},
		},
		{
			name: "unreferenced pack is a notice",
			damage: func(t *testing.T, f *fixture) {
				junk := randomBytes(9, 100)
				err := f.be.Save(context.Background(), backend.Handle{Type: backend.PackFile, Name: crypto.FileID(junk).String()}, backend.NewByteReader(junk))
				if err != nil {
					t.Fatal(err)
				}
			},
			opts: readData,
			want: func(f *fixture) []verify.Finding {
				return []verify.Finding{&verify.UnreferencedPacks{Packs: ids(crypto.FileID(randomBytes(9, 100)))}}
			},
			ok: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.damage != nil {
				tt.damage(t, f)
			}
			opts := tt.opts
			if tt.name == "damaged base outside the subset" {
				opts.Subset = subsetOf(t, f, f.p2)
			}
			rep := f.check(t, opts)
			var want []verify.Finding
			if tt.want != nil {
				want = tt.want(f)
			}
			assertFindings(t, rep, want)
			if rep.OK() != tt.ok {
				t.Errorf("OK() = %v, want %v", rep.OK(), tt.ok)
			}
			if errs := rep.Errors(); (errs == 0) != tt.ok {
				t.Errorf("Errors() = %d", errs)
			}
			for _, fd := range rep.Findings {
				if msg := fd.Error(); msg == "" || strings.Contains(msg, "%!") {
					t.Errorf("bad message for %T: %q", fd, msg)
				}
			}
		})
	}
}

// subsetOf returns the "n/m" subset that selects only pack p among the
// fixture's three packs.
func subsetOf(t *testing.T, f *fixture, p pack.ID) verify.Subset {
	t.Helper()
	sorted := ids(f.p1, f.p2, f.p3, f.p3b)
	for i, q := range sorted {
		if q == p {
			return verify.Subset{N: i + 1, M: len(sorted)}
		}
	}
	t.Fatal("pack not in fixture")
	return verify.Subset{}
}

// rewriteIndexFile replaces index file id with one whose entries were
// changed by edit, as a buggy writer could have made it.
func rewriteIndexFile(t *testing.T, f *fixture, id pack.ID, edit func(*pack.Blob)) {
	t.Helper()
	ctx := context.Background()
	r := f.open(t)
	plain, err := r.LoadFile(ctx, backend.IndexFile, id)
	if err != nil {
		t.Fatal(err)
	}
	file, err := index.Decode(plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range file.Packs {
		for i := range p.Blobs {
			edit(&p.Blobs[i])
		}
	}
	// A rewrite, not damage: through the handle, which records it in the journal.
	if err := r.Backend().Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: id.String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveFile(ctx, backend.IndexFile, index.Encode(file)); err != nil {
		t.Fatal(err)
	}
}

func TestCheckReport(t *testing.T) {
	f := newFixture(t)
	var progress verify.Progress
	rep := f.check(t, verify.CheckOptions{ReadData: true, Progress: &progress})
	want := verify.Report{Packs: 4, Blobs: 7, Snapshots: 2, Trees: 3, PacksRead: 4}
	got := *rep
	got.DataBytesRead = 0
	if got.Packs != want.Packs || got.Blobs != want.Blobs || got.Snapshots != want.Snapshots ||
		got.Trees != want.Trees || got.PacksRead != want.PacksRead || len(got.Findings) != 0 {
		t.Errorf("report = %+v, want %+v", got, want)
	}
	var size int64
	for _, p := range []pack.ID{f.p1, f.p2, f.p3, f.p3b} {
		size += int64(len(f.load(t, backend.PackFile, p)))
	}
	if rep.DataBytesRead != size {
		t.Errorf("DataBytesRead = %d, want %d", rep.DataBytesRead, size)
	}
	if progress.PacksTotal.Load() != 4 || progress.PacksDone.Load() != 4 || progress.BytesRead.Load() != size {
		t.Errorf("progress = %d/%d packs, %d bytes; want 4/4, %d", progress.PacksDone.Load(), progress.PacksTotal.Load(), progress.BytesRead.Load(), size)
	}

	sub := f.check(t, verify.CheckOptions{Subset: subsetOf(t, f, f.p2)})
	if sub.PacksRead != 1 || sub.DataBytesRead != int64(len(f.load(t, backend.PackFile, f.p2))) {
		t.Errorf("subset read %d packs, %d bytes; want P2 only", sub.PacksRead, sub.DataBytesRead)
	}
}

// TestCheckEveryByte damages each byte of each pack in turn: a check that
// reads data must name that pack, and, when the byte lies in a blob, that
// blob and the snapshots that lose it.
func TestCheckEveryByte(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the repository once for every byte of its packs")
	}
	for _, which := range []string{"P1 base and raw blob", "P2 delta and zstd blob", "P3 trees"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := map[string]pack.ID{"P1 base and raw blob": f.p1, "P2 delta and zstd blob": f.p2, "P3 trees": f.p3}[which]
			// The trees have second copies in P3b: damage to one in P3
			// loses nothing, and leaves it with one copy.
			losers := map[pack.ID][]pack.ID{
				f.base: ids(f.s1, f.s2), f.plain1: ids(f.s1), f.delta: ids(f.s2), f.plain2: ids(f.s2),
			}
			header := f.header(t, f.open(t), p)
			size := len(f.load(t, backend.PackFile, p))
			for pos := range size {
				undo := f.flip(t, backend.PackFile, p, pos)
				rep := f.check(t, readData)
				undo()

				// A byte in the header or its length leaves every blob
				// readable through the index: the pack is damaged, no
				// snapshot loses data.
				want := &verify.DamagedPack{Pack: p, DataRead: true}
				wants := []verify.Finding{want}
				for _, b := range header {
					if pos >= int(b.Offset) && pos < int(b.Offset+b.Length) {
						want.Blobs, want.Snapshots = ids(b.ID), losers[b.ID]
						if b.Type == pack.TreeBlob {
							wants = append(wants, &verify.SingleCopyTrees{Trees: ids(b.ID)})
						}
					}
				}
				got := make([]verify.Finding, len(rep.Findings))
				for i, fd := range rep.Findings {
					got[i] = normalize(t, fd)
				}
				if !reflect.DeepEqual(got, wants) {
					t.Fatalf("pack %s byte %d of %d: findings\n%s\nwant\n%s", p.Short(), pos, size, describe(got), describe(wants))
				}
			}
		})
	}
}

func TestCheckCancelled(t *testing.T) {
	f := newFixture(t)
	r := f.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := verify.Check(ctx, r, readData); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestCheckInvalidSubset(t *testing.T) {
	f := newFixture(t)
	if _, err := verify.Check(context.Background(), f.open(t), verify.CheckOptions{Subset: verify.Subset{N: 3, M: 2}}); err == nil {
		t.Error("Check accepted subset 3/2")
	}
}

func TestFindingMessages(t *testing.T) {
	f := newFixture(t)
	f.remove(t, backend.PackFile, f.p1)
	rep := f.check(t, headerOnly)
	if len(rep.Findings) != 1 {
		t.Fatalf("findings: %s", describe(rep.Findings))
	}
	msg := rep.Findings[0].Error()
	for _, want := range []string{
		"data/" + f.p1.String()[:2] + "/" + f.p1.String(), // the file, as it is stored
		f.base.Short(), f.plain1.Short(), f.s1.Short(), f.s2.Short(),
		"lost unless another copy",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
}

func TestFindingJSON(t *testing.T) {
	f := newFixture(t)
	f.flipInBlob(t, f.plain2)
	rep := f.check(t, readData)
	if len(rep.Findings) != 1 {
		t.Fatalf("findings: %s", describe(rep.Findings))
	}
	b, err := json.Marshal(rep.Findings[0])
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Pack      string
		Blobs     []string
		Snapshots []string
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if got.Pack != f.p2.String() || len(got.Blobs) != 1 || got.Blobs[0] != f.plain2.String() ||
		len(got.Snapshots) != 1 || got.Snapshots[0] != f.s2.String() || !strings.Contains(got.Error, "ciphertext verification failed") {
		t.Errorf("JSON of DamagedPack: %s", b)
	}
}
