package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"strata/internal/miniotest"
	"strata/internal/seaweedtest"
)

// TestMain removes the strata binary that buildStrata built, once every
// test that runs it has ended, and stops the MinIO server and the
// SeaweedFS cluster of the S3 tests if they started (miniotest.Main,
// seaweedtest.Stop).
func TestMain(m *testing.M) {
	code := miniotest.Main(m)
	seaweedtest.Stop()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is the strata binary of this test run, built once for every test
// that runs strata as a separate process.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// buildStrata returns the strata binary for the tests that run it as a
// separate process, building it on the first call.
func buildStrata(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: this test builds strata and needs the go command, which is not on PATH")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "strata-test-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "strata")
		built.out, built.err = exec.Command(goCmd, "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}
