// Package miniotest starts a real MinIO server on loopback for the tests of
// one package: the first test that calls Get starts it on a free port with
// a temporary data folder, and TestMain (Main) stops it after the tests;
// each test takes its own bucket with NewBucket. No test talks to a mock
// of S3.
//
// The server is the minio binary named by STRATA_MINIO, else the one
// `make minio` (.ci/minio.sh) builds into
// ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin/minio, else minio on the
// PATH (s3test.Binary). Without one, tests that need it skip with a
// message, and fail under CI=true (dbtest.Unreachable).
package miniotest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"strata/internal/s3test"
)

// Server is a running MinIO server. Its root credentials are made up for
// the run and serve only loopback.
type Server struct {
	s3test.Store

	proc *s3test.Process
	dir  string
}

// shared is the server of the running test binary: started by the first
// Get, stopped by Main.
var shared = s3test.Shared[*Server]{What: "MinIO server for the S3 tests", Start: Start}

// Main runs the tests and then stops the server if a test started one;
// call it from TestMain as os.Exit(miniotest.Main(m)). The server starts
// with the first test that asks for it (Get), so a run of tests that need
// none starts none.
func Main(m *testing.M) int {
	code := m.Run()
	shared.Stop()
	return code
}

// Get returns the package's server, starting it on the first call, or
// skips the test saying why there is none (fails it under CI=true).
func Get(t testing.TB) *Server {
	t.Helper()
	return shared.Get(t)
}

// NewBucket returns the name of a bucket that does not exist yet on the
// server, unique to the test; strata's init creates it. Buckets are left
// for Stop to remove with the server's data.
func NewBucket(t testing.TB) string {
	t.Helper()
	return shared.NewBucket(t)
}

// startTimeout bounds the server's start.
const startTimeout = 60 * time.Second

// Start starts a MinIO server on a free loopback port with a new temporary
// data folder and waits until it answers. A port taken by someone else
// between choosing and binding it makes the server exit; it is then
// started again on new ports, up to three times.
func Start() (*Server, error) {
	bin, err := s3test.Binary("minio", "STRATA_MINIO", "minio")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "strata-minio-")
	if err != nil {
		return nil, err
	}
	s := &Server{Store: s3test.NewStore(), dir: dir}
	for try := 0; ; try++ {
		err := s.start(bin)
		if err == nil {
			return s, nil
		}
		if try == 2 {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("starting %s: %w", bin, err)
		}
	}
}

func (s *Server) start(bin string) error {
	ports, err := s3test.FreePorts(2) // S3, console
	if err != nil {
		return err
	}
	s.Endpoint = fmt.Sprintf("127.0.0.1:%d", ports[0])
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.Endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", ports[1]), filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	p, err := s3test.StartProcess("minio", cmd)
	if err != nil {
		return err
	}
	// The cluster probe answers 200 once the object layer has started
	// (the liveness and readiness probes answer before).
	err = s3test.WaitUntil("minio", startTimeout, func() bool {
		_, ok := s3test.Get("http://" + s.Endpoint + "/minio/health/cluster")
		return ok
	}, p)
	if err != nil {
		p.Stop()
		return fmt.Errorf("%w\n%s", err, p.Output())
	}
	s.proc = p
	return nil
}

// Stop stops the server and removes its data.
func (s *Server) Stop() error {
	s.proc.Stop()
	return os.RemoveAll(s.dir)
}
