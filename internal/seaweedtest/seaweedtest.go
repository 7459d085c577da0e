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
// PATH (s3test.Binary). Without one, tests that need it skip with a
// message, and fail under CI=true (dbtest.Unreachable).
package seaweedtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/internal/s3test"
)

// Cluster is a running SeaweedFS cluster. Its store is the S3 gateway;
// the credentials are made up for the run and are the gateway's only
// identity, so every request must be signed with them.
type Cluster struct {
	s3test.Store

	dir   string
	procs []*s3test.Process // in the order started
}

// shared is the cluster of the running test binary: started by the first
// Get, stopped by Stop (or Main).
var shared = s3test.Shared[*Cluster]{What: "SeaweedFS cluster for the distributed S3 tests", Start: Start}

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
	shared.Stop()
}

// Get returns the package's cluster, starting it on the first call, or
// skips the test saying why there is none (fails it under CI=true).
func Get(t testing.TB) *Cluster {
	t.Helper()
	return shared.Get(t)
}

// NewBucket returns the name of a bucket that does not exist yet on the
// cluster, unique to the test; strata's init creates it. Buckets are left
// for Stop to remove with the cluster's data.
func NewBucket(t testing.TB) string {
	t.Helper()
	return shared.NewBucket(t)
}

// Start starts a cluster on free loopback ports with a new temporary data
// folder and waits until its S3 gateway can store files. A port taken by
// someone else between choosing and binding it makes a server exit; the
// whole cluster is then started again on new ports, up to three times.
func Start() (*Cluster, error) {
	bin, err := s3test.Binary("weed", "STRATA_WEED", "seaweedfs")
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
	c := &Cluster{Store: s3test.NewStore(), dir: dir}
	if err := c.startAll(bin); err != nil {
		var logs strings.Builder
		for _, p := range c.procs {
			fmt.Fprintf(&logs, "\n--- %s:\n%s", p.Name, tail(p.Output(), 3000))
		}
		_ = c.Stop()
		return nil, fmt.Errorf("%w%s", err, logs.String())
	}
	return c, nil
}

func (c *Cluster) startAll(bin string) error {
	// master, master gRPC, 2 x (volume, volume gRPC), filer, filer
	// gRPC, S3, S3 gRPC.
	p, err := s3test.FreePorts(10)
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
	p, err := s3test.StartProcess(name, cmd)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// waitUntil calls ready until it says so, failing when a server of the
// cluster exits or after startTimeout.
func (c *Cluster) waitUntil(what string, ready func() bool) error {
	return s3test.WaitUntil(what, startTimeout, ready, c.procs...)
}

// waitHTTP waits until url answers 200.
func (c *Cluster) waitHTTP(name, url string) error {
	return c.waitUntil("the "+name, func() bool {
		_, ok := s3test.Get(url)
		return ok
	})
}

// waitVolumeServers waits until the master knows n volume servers.
func (c *Cluster) waitVolumeServers(url string, n int) error {
	return c.waitUntil(fmt.Sprintf("%d volume servers to join the master", n), func() bool {
		b, ok := s3test.Get(url)
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

// Stop stops the cluster's servers, the S3 gateway first and the master
// last, and removes its data.
func (c *Cluster) Stop() error {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Stop()
	}
	c.procs = nil
	return os.RemoveAll(c.dir)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
