package restore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strata/repo/restore"
	"strconv"
	"strings"
	"sync"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

func TestRestoreAll(t *testing.T) {
	r, _ := newRepo(t)
	specs := testSnapshot()
	root := saveSnapshot(t, r, specs)
	want := flatten(specs, "", nil)

	for _, workers := range []int{0, 1, 3, 64} {
		t.Run("workers="+strconv.Itoa(workers), func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "restore")
			var progress restore.Progress
			st, err := restore.Restore(context.Background(), r, root, target, restore.Options{Workers: workers, Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			var wantPaths []string
			var files, dirs, links, bytes uint64
			for p, s := range want {
				wantPaths = append(wantPaths, p)
				checkRestored(t, target, p, s)
				switch s.kind {
				case repo.NodeDir:
					dirs++
				case repo.NodeSymlink:
					links++
				default:
					files++
					bytes += uint64(len(s.data))
				}
			}
			slices.Sort(wantPaths)
			if got := listTarget(t, target); !slices.Equal(got, wantPaths) {
				t.Errorf("restored %q\nwant %q", got, wantPaths)
			}
			if want := (restore.Stats{Files: files, Dirs: dirs, Symlinks: links, Bytes: bytes}); st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
			if progress.TotalBytes.Load() != bytes || progress.BytesWritten.Load() != bytes ||
				progress.TotalFiles.Load() != files || progress.FilesDone.Load() != files {
				t.Errorf("progress total %d/%d files, written %d/%d bytes; want %d files, %d bytes",
					progress.FilesDone.Load(), progress.TotalFiles.Load(), progress.BytesWritten.Load(), progress.TotalBytes.Load(), files, bytes)
			}
		})
	}
}

func TestRestoreStreamAndTable(t *testing.T) {
	r, _ := newRepo(t)
	rows := []byte("1\talice\t\\N\n2\tbob\t2024-01-01\n")
	specs := []spec{
		{name: "db.sql", kind: repo.NodeStream, data: randBytes(7, 5*blobSize+1)},
		{name: "public.users", kind: repo.NodeTable, mtime: t0, data: rows},
	}
	root := saveSnapshot(t, r, specs)
	target := t.TempDir()
	if _, err := restore.Restore(context.Background(), r, root, target, restore.Options{}); err != nil {
		t.Fatal(err)
	}
	for p, s := range flatten(specs, "", nil) {
		checkRestored(t, target, p, s) // no mode recorded: 0600
	}
}

func TestRestoreInclude(t *testing.T) {
	r, _ := newRepo(t)
	specs := testSnapshot()
	root := saveSnapshot(t, r, specs)
	all := flatten(specs, "", nil)

	tests := []struct {
		name              string
		include           []string
		want              []string // beside the parents of each, which are created
		exclude, iinclude []string
	}{
		{"base name at any depth", []string{"*.bin"}, []string{"/tmp/data/big.bin", "/tmp/data/sub/c.bin"}, nil, nil},
		{"last parts of the path", []string{"sub/*.bin"}, []string{"/tmp/data/sub/c.bin"}, nil, nil},
		{"any case", nil, []string{"/tmp/data/a.csv"}, nil, []string{"*.CSV"}},
		{"exclude a base name", nil, []string{"/etc/hosts", "/tmp/data/a.csv", "/tmp/data/b.txt", "/tmp/data/empty",
			"/tmp/data/link", "/tmp/data/ro.txt", "/tmp/data/sub/empty-dir"}, []string{"*.bin"}, nil},
		{"exclude a dir below an include", []string{"/tmp/data"}, []string{"/tmp/data/a.csv", "/tmp/data/b.txt",
			"/tmp/data/big.bin", "/tmp/data/empty", "/tmp/data/link", "/tmp/data/ro.txt"}, []string{"sub"}, nil},
		{"one file", []string{"/tmp/data/a.csv"}, []string{"/tmp/data/a.csv"}, nil, nil},
		{"dir takes its content", []string{"/tmp/data/sub"},
			[]string{"/tmp/data/sub", "/tmp/data/sub/c.bin", "/tmp/data/sub/empty-dir"}, nil, nil},
		{"no leading slash, trailing slash", []string{"tmp/data/sub/"},
			[]string{"/tmp/data/sub", "/tmp/data/sub/c.bin", "/tmp/data/sub/empty-dir"}, nil, nil},
		{"glob in the last part", []string{"/tmp/data/*.txt"}, []string{"/tmp/data/b.txt", "/tmp/data/ro.txt"}, nil, nil},
		{"glob in a dir part", []string{"/tmp/*/sub/c.bin"}, []string{"/tmp/data/sub/c.bin"}, nil, nil},
		{"glob matches a dir", []string{"/e*"}, []string{"/etc", "/etc/hosts"}, nil, nil},
		{"empty dir", []string{"/tmp/data/sub/empty-dir"}, []string{"/tmp/data/sub/empty-dir"}, nil, nil},
		{"symlink", []string{"/tmp/data/link"}, []string{"/tmp/data/link"}, nil, nil},
		{"two patterns", []string{"/etc/hosts", "/tmp/data/b.txt"}, []string{"/etc/hosts", "/tmp/data/b.txt"}, nil, nil},
		{"root", []string{"/"}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := t.TempDir()
			var progress restore.Progress
			if _, err := restore.Restore(context.Background(), r, root, target, restore.Options{Include: tt.include, Exclude: tt.exclude, IInclude: tt.iinclude, Progress: &progress}); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, p := range tt.want {
				for q := p; q != "/"; q = filepath.ToSlash(filepath.Dir(q)) {
					want[q] = true
				}
			}
			if tt.want == nil {
				for p := range all {
					want[p] = true
				}
			}
			var wantPaths []string
			var wantBytes uint64
			for p := range want {
				wantPaths = append(wantPaths, p)
				s := all[p]
				if slices.Contains(tt.want, p) || tt.want == nil {
					checkRestored(t, target, p, s)
				}
				wantBytes += uint64(len(s.data))
			}
			slices.Sort(wantPaths)
			if got := listTarget(t, target); !slices.Equal(got, wantPaths) {
				t.Errorf("restored %q\nwant %q", got, wantPaths)
			}
			if got := progress.TotalBytes.Load(); got != wantBytes {
				t.Errorf("total bytes %d, want %d", got, wantBytes)
			}
		})
	}

	errTests := []struct {
		name    string
		include []string
		want    error
	}{
		{"no match", []string{"/tmp/nothing", "/etc/*.conf"}, restore.ErrNoMatch},
		{"prefix of a name is no match", []string{"/tmp/da"}, restore.ErrNoMatch},
		{"bad pattern", []string{"/tmp/["}, nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "restore")
			_, err := restore.Restore(context.Background(), r, root, target, restore.Options{Include: tt.include})
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			t.Log(err)
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("target created by a restore that matched nothing: %v", err)
			}
		})
	}
}

func TestRestoreOverwrite(t *testing.T) {
	r, _ := newRepo(t)
	specs := testSnapshot()
	root := saveSnapshot(t, r, specs)
	ctx := context.Background()
	target := t.TempDir()
	if _, err := restore.Restore(ctx, r, root, target, restore.Options{}); err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(target, "etc", "hosts")
	if err := os.WriteFile(changed, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := restore.Restore(ctx, r, root, target, restore.Options{})
	if !errors.Is(err, restore.ErrExists) || !strings.Contains(err.Error(), "restoring /etc/hosts") {
		t.Fatalf("restore over an existing file: %v, want restore.ErrExists naming /etc/hosts", err)
	}
	if b, _ := os.ReadFile(changed); string(b) != "changed" {
		t.Errorf("refused restore changed the file: %q", b)
	}
	listTarget(t, target) // no temporary files

	if _, err := restore.Restore(ctx, r, root, target, restore.Options{Overwrite: true}); err != nil {
		t.Fatalf("restore with Overwrite: %v", err)
	}
	for p, s := range flatten(specs, "", nil) {
		checkRestored(t, target, p, s)
	}
}

func TestRestoreDirOverFile(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	ctx := context.Background()
	target := t.TempDir()
	// A symlink where the snapshot has a dir must never be followed.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(target, "etc")); err != nil {
		t.Fatal(err)
	}
	if _, err := restore.Restore(ctx, r, root, target, restore.Options{Include: []string{"/etc"}}); !errors.Is(err, restore.ErrExists) {
		t.Fatalf("err %v, want restore.ErrExists", err)
	}
	if _, err := restore.Restore(ctx, r, root, target, restore.Options{Include: []string{"/etc"}, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("restore wrote through a symlink: %v", entries)
	}
	checkRestored(t, target, "/etc/hosts", flatten(testSnapshot(), "", nil)["/etc/hosts"])

	// A dir where the snapshot has a file stays, even with Overwrite.
	target = t.TempDir()
	if err := os.MkdirAll(filepath.Join(target, "etc", "hosts"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := restore.Restore(ctx, r, root, target, restore.Options{Include: []string{"/etc"}, Overwrite: true})
	if err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Fatalf("err %v, want a refusal to replace a folder", err)
	}
}

// packOf returns the pack that holds blob id.
func packOf(t *testing.T, r *repo.Repository, id pack.ID) backend.Handle {
	t.Helper()
	loc, ok := r.Index().Lookup(id)
	if !ok {
		t.Fatalf("blob %s not indexed", id.Short())
	}
	return backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
}

func TestRestoreBlobFails(t *testing.T) {
	damage := []struct {
		name string
		do   func(ctx context.Context, be backend.Storage, h backend.Handle) error
		want error
	}{
		{"pack missing", func(ctx context.Context, be backend.Storage, h backend.Handle) error {
			return be.Remove(ctx, h)
		}, backend.ErrNotExist},
		{"pack damaged", func(ctx context.Context, be backend.Storage, h backend.Handle) error {
			b, err := be.Load(ctx, h, 0, 0)
			if err != nil {
				return err
			}
			for i := range b {
				b[i] ^= 0x55 // every blob fails authentication
			}
			if err := be.Remove(ctx, h); err != nil {
				return err
			}
			return be.Save(ctx, h, backend.NewByteReader(b))
		}, repo.ErrDamaged},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			r, be := newRepo(t)
			repotest.SkipCheck(t) // the test damages a pack
			// Trees go in one pack; the data of the failing file in
			// another, flushed first so removing it spares the trees.
			bad := saveContent(t, r, randBytes(9, 20*blobSize))
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			h := packOf(t, r, bad[0])
			specs := []spec{{name: "data", kind: repo.NodeDir, mode: 0o755, children: []spec{
				{name: "a-good", kind: repo.NodeFile, mode: 0o644, data: []byte("good")},
				{name: "b-bad.csv", kind: repo.NodeFile, mode: 0o644, data: randBytes(9, 20*blobSize)},
				{name: "c-after", kind: repo.NodeFile, mode: 0o644, data: []byte("after")},
			}}}
			root := saveSnapshot(t, r, specs)
			if packOf(t, r, root) == h {
				t.Fatal("trees share the pack to damage")
			}
			if err := d.do(ctx, be, h); err != nil {
				t.Fatal(err)
			}

			target := t.TempDir()
			_, err := restore.Restore(ctx, r, root, target, restore.Options{Workers: 4})
			if !errors.Is(err, d.want) {
				t.Fatalf("err %v, want %v", err, d.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), "restoring /data/b-bad.csv: blob "+bad[0].Short()) {
				t.Errorf("error %q does not name the path and the first blob", err)
			}
			if got, want := listTarget(t, target), []string{"/data", "/data/a-good"}; !slices.Equal(got, want) {
				t.Errorf("target holds %q, want %q", got, want)
			}
		})
	}
}

func TestRestoreUnsafeNames(t *testing.T) {
	file := pack.ID{1}
	for _, name := range []string{"..", ".", "", "a/b", "/etc", "a\x00b"} {
		t.Run(name, func(t *testing.T) {
			root, sub := pack.ID{10}, pack.ID{11}
			loader := &fakeLoader{
				trees: map[pack.ID]*repo.Tree{
					root: {Nodes: []repo.Node{{Name: "d", Kind: repo.NodeDir, Subtree: &sub}}},
					sub:  {Nodes: []repo.Node{{Name: name, Kind: repo.NodeFile, Size: 3, Content: []pack.ID{file}}}},
				},
				blobs: map[pack.ID][]byte{file: []byte("bad")},
			}
			target := filepath.Join(t.TempDir(), "a", "target")
			_, err := restore.Restore(context.Background(), loader, root, target, restore.Options{})
			if !errors.Is(err, restore.ErrUnsafeName) {
				t.Fatalf("err %v, want restore.ErrUnsafeName", err)
			}
			t.Log(err)
			// The dir "d" may be created before the walk reaches the bad
			// name; nothing else may be.
			for _, p := range listTarget(t, filepath.Dir(filepath.Dir(target))) {
				if p != "/a" && p != "/a/target" && p != "/a/target/d" {
					t.Errorf("wrote %s", p)
				}
			}
			if err := restore.Walk(context.Background(), loader, root, func(string, *repo.Node) error { return nil }); !errors.Is(err, restore.ErrUnsafeName) {
				t.Errorf("Walk: %v, want restore.ErrUnsafeName", err)
			}
		})
	}

	// The tree decoder refuses the same names in a real repository, where
	// only a forged tree can hold them: SaveTree refuses them too.
	r, _ := newRepo(t)
	ctx := context.Background()
	if _, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "..", Kind: repo.NodeFile}}}); !errors.Is(err, repo.ErrInvalidNodeName) {
		t.Errorf("SaveTree of a node named \"..\": %v, want repo.ErrInvalidNodeName", err)
	}
	res, err := r.SaveBlob(ctx, pack.TreeBlob, []byte(`{"nodes":[{"name":"..","kind":"file","size":0}]}`+"\n"), pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	root := res.ID
	if _, err := restore.Restore(context.Background(), r, root, t.TempDir(), restore.Options{}); !errors.Is(err, repo.ErrDamaged) {
		t.Errorf("restore of a tree with \"..\": %v, want repo.ErrDamaged", err)
	}
}

func TestRestoreCancelled(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	ctx, cancel := context.WithCancel(context.Background())
	target := t.TempDir()
	var progress restore.Progress
	done := make(chan error, 1)
	go func() {
		_, err := restore.Restore(ctx, r, root, target, restore.Options{Workers: 1, Progress: &progress})
		done <- err
	}()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled or nil", err)
	}
	paths := listTarget(t, target) // no temporary files
	all := flatten(testSnapshot(), "", nil)
	for _, p := range paths {
		if s := all[p]; s.kind != repo.NodeDir && s.kind != repo.NodeSymlink {
			checkRestored(t, target, p, s) // whatever is there is complete
		}
	}
}

// countingLoader records how many blob loads run at once.
type countingLoader struct {
	restore.BlobLoader
	mu            sync.Mutex
	running, most int
}

func (c *countingLoader) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	c.mu.Lock()
	c.running++
	c.most = max(c.most, c.running)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	return c.BlobLoader.LoadBlob(ctx, id)
}

func TestRestoreWorkersBound(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	for _, workers := range []int{1, 2, 5} {
		t.Run(strconv.Itoa(workers), func(t *testing.T) {
			loader := &countingLoader{BlobLoader: r}
			if _, err := restore.Restore(context.Background(), loader, root, t.TempDir(), restore.Options{Workers: workers}); err != nil {
				t.Fatal(err)
			}
			if loader.most > workers {
				t.Errorf("%d blob loads at once, want at most %d", loader.most, workers)
			}
		})
	}
}

// TestRestoreProgressDuringRestore: the file count rises as each file is
// restored, not at the end: when the first file is in place, one file is
// counted and not all bytes are written yet (the writer writes files one
// after the other).
func TestRestoreProgressDuringRestore(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	var p restore.Progress
	var first struct {
		files, bytes uint64
		seen         bool
	}
	_, err := restore.Restore(context.Background(), r, root, t.TempDir(), restore.Options{
		Progress: &p,
		OnFile: func(string) {
			if !first.seen {
				first.seen, first.files, first.bytes = true, p.FilesDone.Load(), p.BytesWritten.Load()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !first.seen || first.files != 1 || first.bytes >= p.TotalBytes.Load() {
		t.Errorf("at the first restored file: %d files, %d of %d bytes; want 1 file and bytes still to come", first.files, first.bytes, p.TotalBytes.Load())
	}
	if p.FilesDone.Load() != p.TotalFiles.Load() || p.BytesWritten.Load() != p.TotalBytes.Load() {
		t.Errorf("at the end: %d of %d files, %d of %d bytes", p.FilesDone.Load(), p.TotalFiles.Load(), p.BytesWritten.Load(), p.TotalBytes.Load())
	}
}
