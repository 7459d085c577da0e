package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"strata/internal/dbtest"
)

// Store is an S3 endpoint on loopback and the credentials made up for the
// run that sign every request to it.
type Store struct {
	Endpoint  string // host:port on 127.0.0.1
	AccessKey string
	SecretKey string
}

// NewStore returns a store with new made-up credentials and no endpoint
// yet.
func NewStore() Store {
	return Store{AccessKey: "strata-" + RandomHex(4), SecretKey: RandomHex(16)}
}

// URL returns the repository URL of bucket/prefix on the store, as strata
// takes it (s3:http://127.0.0.1:PORT/bucket/prefix).
func (s Store) URL(bucket, prefix string) string {
	u := "s3:http://" + s.Endpoint + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}

// Env returns the environment variables that give a client the store's
// credentials, as NAME=value.
func (s Store) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// Binary returns the path of the server binary name: the one the
// environment variable envVar names, else the one `make makeTarget` builds
// into ${XDG_CACHE_HOME:-$HOME/.cache}/strata-tools/bin, else name on the
// PATH; or an error saying how to get one.
func Binary(name, envVar, makeTarget string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		return p, nil
	}
	cached := cachedBinary(name)
	if cached != "" {
		if _, err := os.Stat(cached); err == nil {
			return cached, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found (%s, %s or the PATH): `make %s` builds it", name, envVar, cached, makeTarget)
}

// cachedBinary is where the .ci scripts install the binary name.
func cachedBinary(name string) string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "strata-tools", "bin", name)
}

// Shared is the one server of a test binary: the first test that asks for
// it (Get) starts it, and the package's TestMain stops it after the tests
// (Stop), so a run of tests that need none starts none.
type Shared[S interface{ Stop() error }] struct {
	What  string // what is missing without it, as in "MinIO server for the S3 tests"
	Start func() (S, error)

	once    sync.Once
	server  S
	started bool
	err     error
}

// Get returns the server, starting it on the first call, or skips the
// test saying why there is none (fails it under CI=true).
func (sh *Shared[S]) Get(t testing.TB) S {
	t.Helper()
	sh.once.Do(func() {
		sh.server, sh.err = sh.Start()
		sh.started = sh.err == nil
	})
	if !sh.started {
		dbtest.Unreachable(t, "no "+sh.What+": "+sh.err.Error())
	}
	return sh.server
}

// NewBucket returns the name of a bucket that does not exist yet on the
// server, unique to the test; strata's init creates it. Buckets are left
// for Stop to remove with the server's data.
func (sh *Shared[S]) NewBucket(t testing.TB) string {
	t.Helper()
	sh.Get(t)
	return "strata-test-" + RandomHex(6)
}

// Stop stops the server if a test started one. Errors are printed: the
// tests have ended.
func (sh *Shared[S]) Stop() {
	if !sh.started {
		return
	}
	if err := sh.server.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the %s: %v\n", sh.What, err)
	}
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// FreePorts returns n distinct loopback ports that were free a moment
// ago.
func FreePorts(n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so no port comes twice
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}
