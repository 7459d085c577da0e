package s3_test

import (
	"testing"
	"time"

	"strata/internal/miniotest"
	"strata/internal/seaweedtest"
)

// server is an S3-compatible server on loopback that the tests run
// against: MinIO (one process) or a SeaweedFS cluster (master, two volume
// servers, filer and S3 gateway).
type server struct {
	name      string
	endpoint  string // host:port
	accessKey string
	secretKey string
	newBucket func(testing.TB) string // a bucket name not yet made
	// stall is the stall-timeout of the fault tests: long enough that
	// the server's slowest answer under load is not taken for a stall.
	stall time.Duration
	// worm is in the server's refusal to delete a locked version.
	worm string
}

func (s server) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.accessKey, "AWS_SECRET_ACCESS_KEY=" + s.secretKey}
}

// url is the repository URL of prefix in a new bucket, with the query
// options opts.
func (s server) url(t testing.TB, prefix, opts string) string {
	u := "s3:http://" + s.endpoint + "/" + s.newBucket(t)
	if prefix != "" {
		u += "/" + prefix
	}
	if opts != "" {
		u += "?" + opts
	}
	return u
}

// minioServer is the package's MinIO server (skipping the test without
// one, failing it under CI=true).
func minioServer(t testing.TB) server {
	t.Helper()
	srv := miniotest.Get(t)
	return server{name: "MinIO", endpoint: srv.Endpoint, accessKey: srv.AccessKey, secretKey: srv.SecretKey,
		newBucket: miniotest.NewBucket, stall: time.Second, worm: "WORM"}
}

// seaweedServer is the package's SeaweedFS cluster. Its tests are long
// ones: starting the cluster takes seconds, under load a minute. A PUT
// passes through the gateway and the filer to both volume servers, which
// under load takes seconds. It refuses a delete of a locked version with
// 403 AccessDenied, where MinIO says "Object is WORM protected".
func seaweedServer(t testing.TB) server {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: starts a SeaweedFS cluster; run without -short (make test-long)")
	}
	c := seaweedtest.Get(t)
	return server{name: "SeaweedFS", endpoint: c.Endpoint, accessKey: c.AccessKey, secretKey: c.SecretKey,
		newBucket: seaweedtest.NewBucket, stall: 5 * time.Second, worm: "Access Denied"}
}
