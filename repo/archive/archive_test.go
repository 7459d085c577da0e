package archive_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"strata/internal/gendata"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/backend/local"
	"strata/repo/repotest"
	"strata/repo/restore"
)

var ctx = context.Background()

func genData(t testing.TB, size int64) []byte {
	var b bytes.Buffer
	if _, err := gendata.Write(&b, size); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBackupStreamRoundTrip(t *testing.T) {
	r, _ := repotest.New(t)
	data := genData(t, 5<<20)
	at := time.Date(2025, 6, 17, 14, 0, 0, 0, time.UTC)
	sn, err := archive.BackupStream(ctx, r, bytes.NewReader(data), "export.tsv", archive.Options{Host: "db1", Tier: "hourly", Tags: []string{"a"}, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	if sn.Source != "stdin:export.tsv" || sn.Host != "db1" || !sn.Time.Equal(at) || sn.Summary.BytesRead != uint64(len(data)) {
		t.Errorf("snapshot = %+v", sn)
	}
	var out bytes.Buffer
	if err := restore.Dump(ctx, r, sn.Tree, "/export.tsv", &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("dumped stream differs")
	}
	again, err := archive.BackupStream(ctx, r, bytes.NewReader(data), "export.tsv", archive.Options{Parent: sn})
	if err != nil {
		t.Fatal(err)
	}
	if again.Summary.BlobsAdded > 1 || again.Summary.BytesAdded*100 > sn.Summary.BytesAdded {
		t.Errorf("same stream again added %d blobs, %d bytes (first: %d bytes)", again.Summary.BlobsAdded, again.Summary.BytesAdded, sn.Summary.BytesAdded)
	}
	if again.Parent == nil || *again.Parent != sn.ID {
		t.Errorf("parent = %v, want %s", again.Parent, sn.ID.Short())
	}
}

func TestBackupPathsUsesParent(t *testing.T) {
	r, _ := repotest.New(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.tsv"), genData(t, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "b.tsv"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := archive.BackupPaths(ctx, r, []string{src}, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Summary.FilesNew != 2 {
		t.Errorf("first backup: %+v", first.Summary)
	}
	// Change b.tsv with a different size so the shortcut cannot hide it.
	if err := os.WriteFile(filepath.Join(src, "b.tsv"), []byte("changed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := archive.BackupPaths(ctx, r, []string{src}, archive.Options{Parent: first})
	if err != nil {
		t.Fatal(err)
	}
	if second.Summary.FilesUnchanged != 1 || second.Summary.FilesChanged != 1 {
		t.Errorf("second backup: %+v, want 1 unchanged, 1 changed", second.Summary)
	}
	if second.Summary.BytesRead != uint64(len("changed\n")) {
		t.Errorf("second backup read %d bytes, want only the changed file", second.Summary.BytesRead)
	}
	forced, err := archive.BackupPaths(ctx, r, []string{src}, archive.Options{Parent: second, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if forced.Summary.FilesUnchanged != 0 {
		t.Errorf("--force still skipped files: %+v", forced.Summary)
	}
	node, err := restore.FindNode(ctx, r, forced.Tree, filepath.Join(src, "b.tsv"))
	if err != nil || node.Size != 8 {
		t.Fatalf("node = %+v, %v", node, err)
	}
}

func TestBackupPathsRejectsMissing(t *testing.T) {
	r, _ := repotest.New(t)
	if _, err := archive.BackupPaths(ctx, r, []string{filepath.Join(t.TempDir(), "nope")}, archive.Options{}); err == nil {
		t.Fatal("backing up a missing path succeeded")
	}
}

// BenchmarkBackupStream measures the whole pipeline (chunk, hash, compress,
// seal, pack, write to a local repository) on new and on unchanged data.
func BenchmarkBackupStream(b *testing.B) {
	data := genData(b, 64<<20)
	for _, mode := range []string{"new", "unchanged"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			be, err := local.Create(dir)
			if err != nil {
				b.Fatal(err)
			}
			cfg := repotest.Config(b)
			cfg.PackSize = 16 << 20
			r, err := repo.Init(ctx, be, "pw", cfg, repotest.Options(b))
			if err != nil {
				b.Fatal(err)
			}
			if mode == "unchanged" {
				if _, err := archive.BackupStream(ctx, r, bytes.NewReader(data), "x", archive.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if mode == "new" && i > 0 {
					b.StopTimer()
					// A fresh repository each round, so the data is new.
					dir := b.TempDir()
					be, _ = local.Create(dir)
					if r, err = repo.Init(ctx, be, "pw", cfg, repotest.Options(b)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if _, err := archive.BackupStream(ctx, r, bytes.NewReader(data), "x", archive.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
