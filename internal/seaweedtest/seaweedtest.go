// Package seaweedtest starts a real SeaweedFS cluster on loopback for the
// tests of one package, the distributed S3-compatible store of
// docs/design.md ("The S3 backend", "SeaweedFS"): a master, two volume
// servers that hold every file twice (replication 001, one copy on each),
// a filer and its S3 gateway, each its own process on its own free ports,
// all with their data in one temporary folder. The first test that calls
// Get starts it, and the package's TestMain stops it (Stop, or Main). No
// test talks to a mock of S3.
//
// The binary is the weed named by STRATA_WEED, else the one `make
// seaweedfs` (.ci/seaweedfs.sh) builds into
// ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin/weed, else weed on the
// PATH. Without one, tests that need it skip with a message, and fail
// under CI=true (dbtest.Unreachable).
package seaweedtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Cluster is a running SeaweedFS cluster. Endpoint is its S3 gateway; the
// credentials are made up for the run and are the gateway's only
// identity, so every request must be signed with them.
type Cluster struct {
	Endpoint  string // host:port of the S3 gateway on 127.0.0.1
	AccessKey string
	SecretKey string

	dir   string
	procs []*proc // in the order started
}

// proc is one server process of the cluster.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// URL returns the repository URL of bucket/prefix on the cluster's S3
// gateway, as strata takes it (s3:http://127.0.0.1:PORT/bucket/prefix).
func (c *Cluster) URL(bucket, prefix string) string {
	u := "s3:http://" + c.Endpoint + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}

// Env returns the environment variables that give a client the
// gateway's credentials, as NAME=value.
func (c *Cluster) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + c.AccessKey, "AWS_SECRET_ACCESS_KEY=" + c.SecretKey}
}

// the cluster of the running test binary: started by the first Get,
// stopped by Stop (or Main).
var (
	once       sync.Once
	cluster    *Cluster
	startError error
)

// Main runs the tests and then stops the cluster if a test started one;
// call it from TestMain as os.Exit(seaweedtest.Main(m)). A package that
// also uses miniotest calls Stop after miniotest.Main instead.
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the package's cluster if one was started, and removes its
// data. Errors are printed: the tests have ended.
func Stop() {
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "seaweedtest: %v\n", err)
		}
	}
}

// Get returns the package's cluster, starting it on the first call, or
// skips the test saying why there is none (fails it under CI=true).
func Get(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { cluster, startError = Start() })
	if cluster == nil {
		dbtest.Unreachable(t, "no SeaweedFS cluster for the distributed S3 tests: "+startError.Error())
	}
	return cluster
}

// NewBucket returns the name of a bucket that does not exist yet on the
// cluster, unique to the test; strata's init creates it. Buckets are left
// for Stop to remove with the cluster's data.
func NewBucket(t testing.TB) string {
	t.Helper()
	Get(t)
	return "strata-test-" + randomHex(6)
}

// Binary returns the path of the weed binary, or an error saying how to
// get one.
func Binary() (string, error) {
	if p := os.Getenv("STRATA_WEED"); p != "" {
		return p, nil
	}
	if p := cachedBinary(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("weed not found (STRATA_WEED, %s or the PATH): `make seaweedfs` builds it", cachedBinary())
}

// cachedBinary is where .ci/seaweedfs.sh installs weed.
func cachedBinary() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "strata-tools", "bin", "weed")
}

// Start starts a cluster on free loopback ports with a new temporary data
// folder and waits until its S3 gateway can store files. A port taken by
// someone else between choosing and binding it makes a server exit; the
// whole cluster is then started again on new ports, up to three times.
func Start() (*Cluster, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		c, err := start(bin)
		if err == nil {
			return c, nil
		}
		if try == 2 {
			return nil, fmt.Errorf("starting a SeaweedFS cluster with %s: %w", bin, err)
		}
	}
}

// startTimeout bounds the start of each server: SeaweedFS's servers take
// seconds on an idle machine, much longer on a loaded one.
const startTimeout = 2 * time.Minute

func start(bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "strata-seaweedfs-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{AccessKey: "strata-" + randomHex(4), SecretKey: randomHex(16), dir: dir}
	if err := c.startAll(bin); err != nil {
		var logs strings.Builder
		for _, p := range c.procs {
			fmt.Fprintf(&logs, "\n--- %s:\n%s", p.name, tail(p.out.String(), 3000))
		}
		_ = c.Stop()
		return nil, fmt.Errorf("%w%s", err, logs.String())
	}
	return c, nil
}

// ports returns n free loopback ports.
func ports(n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func (c *Cluster) startAll(bin string) error {
	// master, master gRPC, 2 x (volume, volume gRPC), filer, filer
	// gRPC, S3, S3 gRPC.
	p, err := ports(10)
	if err != nil {
		return err
	}
	master := fmt.Sprintf("127.0.0.1:%d.%d", p[0], p[1]) // SeaweedFS's host:port.grpcPort
	filer := fmt.Sprintf("127.0.0.1:%d.%d", p[6], p[7])
	c.Endpoint = fmt.Sprintf("127.0.0.1:%d", p[8])
	for _, d := range []string{"master", "volume1", "volume2", "filer"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			return err
		}
	}
	config, err := c.writeIdentities()
	if err != nil {
		return err
	}
	common := []string{"-ip=127.0.0.1", "-ip.bind=127.0.0.1"}

	// Every file is stored on both volume servers (replication 001: one
	// more copy on another server of the same rack). Each bucket is a
	// collection of its own, for which the master makes volumes at its
	// first write: one volume (two copies) per bucket, not SeaweedFS's
	// six, and small ones, keep a run of hundreds of test buckets light.
	if err := c.run("master", bin, []string{"WEED_MASTER_VOLUME_GROWTH_COPY_2=1"},
		append([]string{"master", fmt.Sprintf("-port=%d", p[0]), fmt.Sprintf("-port.grpc=%d", p[1]),
			"-mdir=" + filepath.Join(c.dir, "master"), "-peers=none", "-defaultReplication=001",
			"-volumeSizeLimitMB=64", "-telemetry=false"}, common...)...); err != nil {
		return err
	}
	if err := c.waitHTTP("master", fmt.Sprintf("http://127.0.0.1:%d/healthz", p[0])); err != nil {
		return err
	}
	for i := range 2 {
		name := fmt.Sprintf("volume%d", i+1)
		if err := c.run(name, bin, nil,
			append([]string{"volume", fmt.Sprintf("-port=%d", p[2+2*i]), fmt.Sprintf("-port.grpc=%d", p[3+2*i]),
				"-dir=" + filepath.Join(c.dir, name), "-max=0", "-master=" + master, "-preStopSeconds=0",
				"-minFreeSpace=1GiB"}, common...)...); err != nil {
			return err
		}
	}
	if err := c.waitVolumeServers(fmt.Sprintf("http://127.0.0.1:%d/dir/status", p[0]), 2); err != nil {
		return err
	}
	if err := c.run("filer", bin, nil,
		append([]string{"filer", fmt.Sprintf("-port=%d", p[6]), fmt.Sprintf("-port.grpc=%d", p[7]),
			"-master=" + master, "-defaultStoreDir=" + filepath.Join(c.dir, "filer"),
			"-localSocket=" + filepath.Join(c.dir, "filer.sock")}, common...)...); err != nil {
		return err
	}
	if err := c.waitHTTP("filer", fmt.Sprintf("http://127.0.0.1:%d/healthz", p[6])); err != nil {
		return err
	}
	if err := c.run("s3", bin, nil,
		"s3", fmt.Sprintf("-port=%d", p[8]), fmt.Sprintf("-port.grpc=%d", p[9]), "-ip.bind=127.0.0.1",
		"-filer="+filer, "-config="+config, "-port.iceberg=0", "-port.lance=0",
		"-localSocket="+filepath.Join(c.dir, "s3.sock")); err != nil {
		return err
	}
	return c.waitHTTP("s3", "http://"+c.Endpoint+"/healthz")
}

// writeIdentities writes the S3 gateway's configuration: one identity,
// the cluster's made-up credentials, allowed everything.
func (c *Cluster) writeIdentities() (string, error) {
	type credential struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	type identity struct {
		Name        string       `json:"name"`
		Credentials []credential `json:"credentials"`
		Actions     []string     `json:"actions"`
	}
	cfg := struct {
		Identities []identity `json:"identities"`
	}{[]identity{{Name: "strata", Credentials: []credential{{c.AccessKey, c.SecretKey}},
		Actions: []string{"Admin", "Read", "List", "Tagging", "Write"}}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.dir, "s3.json")
	return path, os.WriteFile(path, b, 0o600)
}

// run starts one server of the cluster, with its working folder in the
// cluster's (SeaweedFS looks for its .toml files in the working folder),
// and TMPDIR too, where its log files go, so Stop removes them.
func (c *Cluster) run(name, bin string, env []string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(append(os.Environ(), "TMPDIR="+c.dir), env...)
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	// The servers die with the test binary, even when that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	c.procs = append(c.procs, p)
	return nil
}

// waitUntil calls ready until it says so, failing when a server of the
// cluster exits or after startTimeout.
func (c *Cluster) waitUntil(what string, ready func() bool) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		for _, p := range c.procs {
			select {
			case err := <-p.done:
				p.done <- err // for Stop
				return fmt.Errorf("the %s exited while waiting for %s: %v", p.name, what, err)
			default:
			}
		}
		if ready() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: not ready within %v", what, startTimeout)
}

// waitHTTP waits until url answers 200.
func (c *Cluster) waitHTTP(name, url string) error {
	return c.waitUntil("the "+name, func() bool {
		_, ok := get(url)
		return ok
	})
}

// waitVolumeServers waits until the master knows n volume servers.
func (c *Cluster) waitVolumeServers(url string, n int) error {
	return c.waitUntil(fmt.Sprintf("%d volume servers to join the master", n), func() bool {
		b, ok := get(url)
		if !ok {
			return false
		}
		var st struct {
			Topology struct {
				DataCenters []struct {
					Racks []struct {
						DataNodes []json.RawMessage
					}
				}
			}
		}
		if json.Unmarshal(b, &st) != nil {
			return false
		}
		nodes := 0
		for _, dc := range st.Topology.DataCenters {
			for _, r := range dc.Racks {
				nodes += len(r.DataNodes)
			}
		}
		return nodes >= n
	})
}

// get returns the body of url and whether it answered 200.
func get(url string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b, err == nil && resp.StatusCode == http.StatusOK
}

// Stop stops the cluster's servers, the S3 gateway first and the master
// last, and removes its data.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	c.procs = nil
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// syncBuffer collects a server's output, written by its process's
// copying goroutine and read when the start fails.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // a server that logs on and on keeps its first MiB
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
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
