package archive

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"strata/filter"
)

// fakeInfo is a FileInfo with a chosen device, standing in for a mount
// point, which a test cannot create without privileges.
type fakeInfo struct {
	dir bool
	dev uint64
}

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return map[bool]fs.FileMode{true: fs.ModeDir, false: 0}[f.dir] }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Dev: f.dev} }

func TestExclusionsSkip(t *testing.T) {
	pats, err := filter.ParseList([]string{"*.tmp", "/var/cache"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ex := Exclusions{Patterns: pats, OneFileSystem: true}
	tests := []struct {
		name      string
		path      string
		fi        fakeInfo
		parentDev uint64
		want      bool
	}{
		{"pattern on a base name", "/home/a.tmp", fakeInfo{dev: 1}, 1, true},
		{"anchored pattern", "/var/cache", fakeInfo{dir: true, dev: 1}, 1, true},
		{"not matched", "/home/a.txt", fakeInfo{dev: 1}, 1, false},
		{"dir on another file system", "/home/mnt", fakeInfo{dir: true, dev: 2}, 1, true},
		{"dir on the same file system", "/home/sub", fakeInfo{dir: true, dev: 1}, 1, false},
		{"a path given is never another file system", "/mnt", fakeInfo{dir: true, dev: 2}, 0, false},
	}
	for _, tt := range tests {
		if got := ex.skip(tt.path, tt.fi, tt.parentDev); got != tt.want {
			t.Errorf("%s: skip = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Exclusions{}).skip("/home/mnt", fakeInfo{dir: true, dev: 2}, 1) {
		t.Error("without OneFileSystem a mount point was skipped")
	}
}

func TestIsCacheDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"tagged": CacheDirSignature + "\n# x\n", "wrong": "Signature: nope", "short": "Sig"} {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, CacheDirTag), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]bool{"tagged": true, "wrong": false, "short": false, "missing": false} {
		if got := isCacheDir(filepath.Join(dir, name)); got != want {
			t.Errorf("isCacheDir(%s) = %v, want %v", name, got, want)
		}
	}
}
