// Package miniotest starts a real MinIO server on loopback for the tests of
// one package: the first test that calls Get starts it on a free port with
// a temporary data folder, and TestMain (Main) stops it after the tests;
// each test takes its own bucket with NewBucket. No test talks to a mock
// of S3.
//
// The server is the minio binary named by STRATA_MINIO, else the one
// `make minio` (.ci/minio.sh) builds into
// ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin/minio, else minio on the
// PATH. Without one, tests that need it skip with a message, and fail
// under CI=true (dbtest.Unreachable).
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"strata/internal/dbtest"
)

// Server is a running MinIO server. Its root credentials are made up for
// the run and serve only loopback.
type Server struct {
	Endpoint  string // host:port on 127.0.0.1
	AccessKey string
	SecretKey string

	cmd  *exec.Cmd
	dir  string
	done chan error
}

// URL returns the repository URL of bucket/prefix on the server, as
// strata takes it (s3:http://127.0.0.1:PORT/bucket/prefix).
func (s *Server) URL(bucket, prefix string) string {
	u := "s3:http://" + s.Endpoint + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}

// Env returns the environment variables that give a client the server's
// credentials, as NAME=value.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// the server of the running test binary: started by the first Get,
// stopped by Main.
var (
	once       sync.Once
	server     *Server
	startError error
)

// Main runs the tests and then stops the server if a test started one;
// call it from TestMain as os.Exit(miniotest.Main(m)). The server starts
// with the first test that asks for it (Get), so a run of tests that need
// none starts none.
func Main(m *testing.M) int {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "miniotest: %v\n", err)
		}
	}
	return code
}

// Get returns the package's server, starting it on the first call, or
// skips the test saying why there is none (fails it under CI=true).
func Get(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { server, startError = Start() })
	if server == nil {
		dbtest.Unreachable(t, "no MinIO server for the S3 tests: "+startError.Error())
	}
	return server
}

// Binary returns the path of the minio binary, or an error saying how to
// get one.
func Binary() (string, error) {
	if p := os.Getenv("STRATA_MINIO"); p != "" {
		return p, nil
	}
	if p := cachedBinary(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("minio not found (STRATA_MINIO, %s or the PATH): `make minio` builds it", cachedBinary())
}

// cachedBinary is where .ci/minio.sh installs minio.
func cachedBinary() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "strata-tools", "bin", "minio")
}

// Start starts a MinIO server on a free loopback port with a new temporary
// data folder and waits until it answers.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "strata-minio-")
	if err != nil {
		return nil, err
	}
	s := &Server{AccessKey: "strata-" + randomHex(4), SecretKey: randomHex(16), dir: dir}
	var out strings.Builder
	for try := 0; ; try++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		console, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.Endpoint = fmt.Sprintf("127.0.0.1:%d", port)
		out.Reset()
		err = s.start(bin, console, &out)
		if err == nil {
			return s, nil
		}
		if try == 2 {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("starting %s: %w\n%s", bin, err, out.String())
		}
	}
}

func (s *Server) start(bin string, consolePort int, out *strings.Builder) error {
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.Endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", consolePort), filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	// The server dies with the test binary, even when that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("minio exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if s.live() {
			s.done = done
			return nil
		}
	}
	_ = cmd.Process.Kill()
	<-done
	return errors.New("minio did not answer within 60 seconds")
}

// live reports whether the server is ready to serve requests: its
// cluster probe answers 200 once the object layer has started (the
// liveness and readiness probes answer before).
func (s *Server) live() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Endpoint+"/minio/health/cluster", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop stops the server and removes its data.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return os.RemoveAll(s.dir)
}

// NewBucket returns the name of a bucket that does not exist yet on the
// server, unique to the test; strata's init creates it. Buckets are left
// for Stop to remove with the server's data.
func NewBucket(t testing.TB) string {
	t.Helper()
	Get(t)
	return "strata-test-" + randomHex(6)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
