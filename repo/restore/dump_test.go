package restore_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"strata/repo/restore"
	"strings"
	"testing"
	"time"

	"strata/repo"
)

func TestDumpFile(t *testing.T) {
	r, _ := newRepo(t)
	specs := append(testSnapshot(), spec{name: "db.sql", kind: repo.NodeStream, data: randBytes(4, 7*blobSize+5)})
	root := saveSnapshot(t, r, specs)
	all := flatten(specs, "", nil)

	for _, p := range []string{"/tmp/data/a.csv", "/tmp/data/big.bin", "tmp/data/empty", "/db.sql", "/tmp/./data/../data/b.txt"} {
		t.Run(p, func(t *testing.T) {
			var buf bytes.Buffer
			if err := restore.Dump(context.Background(), r, root, p, &buf); err != nil {
				t.Fatal(err)
			}
			if want := all[restore.CleanPath(p)].data; !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("dumped %d bytes, want %d", buf.Len(), len(want))
			}
		})
	}
}

func TestDumpErrors(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	tests := []struct {
		path, want string
		is         error
	}{
		{"/x/y", `no "/x/y" in snapshot`, restore.ErrNotFound},
		{"/tmp/data/a.csv/inside", `no "/tmp/data/a.csv/inside" in snapshot`, restore.ErrNotFound},
		{"/tmp/data/link", `dumping /tmp/data/link: it is a symlink to "a.csv"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var buf bytes.Buffer
			err := restore.Dump(context.Background(), r, root, tt.path, &buf)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes", buf.Len())
			}
		})
	}
}

func TestDumpDir(t *testing.T) {
	r, _ := newRepo(t)
	specs := testSnapshot()
	root := saveSnapshot(t, r, specs)
	all := flatten(specs, "", nil)

	tests := []struct {
		path  string
		names []string // tar names, in order; each maps to "/tmp/" + name
	}{
		{"/tmp/data", []string{"data/", "data/a.csv", "data/b.txt", "data/big.bin", "data/empty", "data/link",
			"data/ro.txt", "data/sub/", "data/sub/c.bin", "data/sub/empty-dir/"}},
		{"/tmp/data/sub/", []string{"sub/", "sub/c.bin", "sub/empty-dir/"}},
		{"/", []string{"etc/", "etc/hosts", "tmp/", "tmp/data/", "tmp/data/a.csv", "tmp/data/b.txt", "tmp/data/big.bin",
			"tmp/data/empty", "tmp/data/link", "tmp/data/ro.txt", "tmp/data/sub/", "tmp/data/sub/c.bin", "tmp/data/sub/empty-dir/"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var buf bytes.Buffer
			if err := restore.Dump(context.Background(), r, root, tt.path, &buf); err != nil {
				t.Fatal(err)
			}
			dir := restore.CleanPath(tt.path)
			tr := tar.NewReader(&buf)
			var names []string
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, h.Name)
				// The snapshot path of the entry: the dumped dir's parent
				// joined with the tar name.
				p := "/" + strings.TrimSuffix(h.Name, "/")
				if dir != "/" {
					p = dir[:strings.LastIndex(dir, "/")] + p
				}
				want, ok := all[p]
				if !ok {
					t.Errorf("tar entry %q is no snapshot node (%s)", h.Name, p)
					continue
				}
				if int64(restore.FileMode(&repo.Node{Kind: want.kind, Mode: want.mode}).Perm()) != h.Mode&0o777 && want.kind != repo.NodeSymlink {
					t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want.mode)
				}
				if !h.ModTime.Equal(want.mtime.Truncate(time.Second)) {
					t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, want.mtime)
				}
				switch want.kind {
				case repo.NodeDir:
					if h.Typeflag != tar.TypeDir {
						t.Errorf("%s: type %c, want a dir", h.Name, h.Typeflag)
					}
				case repo.NodeSymlink:
					if h.Typeflag != tar.TypeSymlink || h.Linkname != want.target {
						t.Errorf("%s: type %c to %q, want a symlink to %q", h.Name, h.Typeflag, h.Linkname, want.target)
					}
				default:
					got, err := io.ReadAll(tr)
					if err != nil {
						t.Fatal(err)
					}
					if h.Typeflag != tar.TypeReg || !bytes.Equal(got, want.data) {
						t.Errorf("%s: type %c with %d bytes, want a file of %d", h.Name, h.Typeflag, len(got), len(want.data))
					}
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.names, " ") {
				t.Errorf("tar holds %q\nwant %q", names, tt.names)
			}
		})
	}
}
