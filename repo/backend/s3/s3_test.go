package s3_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"strata/internal/miniotest"
	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/faulty"
	"strata/repo/backend/s3"
)

var ctx = context.Background()

// newBackend creates a repository's backend under a prefix of a new bucket
// on the test MinIO server, with the query options of opts.
func newBackend(t *testing.T, opts string) *s3.Backend {
	t.Helper()
	return newBackendOn(t, minioServer(t), opts)
}

// newBackendOn is newBackend on srv.
func newBackendOn(t *testing.T, srv server, opts string) *s3.Backend {
	t.Helper()
	cfg, err := s3.ParseURL(srv.url(t, "repos/one", opts))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.Create(ctx, cfg, envOf(srv.env()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envOf makes a Getenv of NAME=value pairs; nothing else is set.
func envOf(pairs []string) s3.Getenv {
	m := make(map[string]string)
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(name string) string { return m[name] }
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Storage { return newBackend(t, "") })
}

// TestConformanceFaulty runs the suite over the faulty wrapper over S3,
// which the tests of strata's crash safety use.
func TestConformanceFaulty(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Storage { return faulty.New(newBackend(t, "")) })
}

// TestConformanceSeaweedFS runs the suite against a SeaweedFS cluster,
// the distributed store: every file through the S3 gateway and the filer
// to two volume servers.
func TestConformanceSeaweedFS(t *testing.T) {
	srv := seaweedServer(t)
	backendtest.Run(t, func(t *testing.T) backend.Storage { return newBackendOn(t, srv, "") })
}

// TestConformanceFaultySeaweedFS is TestConformanceFaulty against SeaweedFS.
func TestConformanceFaultySeaweedFS(t *testing.T) {
	srv := seaweedServer(t)
	backendtest.Run(t, func(t *testing.T) backend.Storage { return faulty.New(newBackendOn(t, srv, "")) })
}

// TestConformanceNoConditionalPut runs the suite with conditional-put=false,
// the fallback for servers without If-None-Match on PUT: a check before
// each Save and a read-back after a Save of the config. It keeps the whole
// contract but the one promise it documents it cannot: of concurrent
// Saves of the config more than one may succeed (the stored one is whole
// and a winner's). The servers have conditional writes; the fallback
// sends none, so it runs here as it would on a server without them.
func TestConformanceNoConditionalPut(t *testing.T) {
	srv := minioServer(t)
	backendtest.RunWith(t, backendtest.Options{NoConditionalWrites: true},
		func(t *testing.T) backend.Storage { return newBackendOn(t, srv, "conditional-put=false") })
}

// TestConformanceNoConditionalPutSeaweedFS is TestConformanceNoConditionalPut
// against SeaweedFS.
func TestConformanceNoConditionalPutSeaweedFS(t *testing.T) {
	srv := seaweedServer(t)
	backendtest.RunWith(t, backendtest.Options{NoConditionalWrites: true},
		func(t *testing.T) backend.Storage { return newBackendOn(t, srv, "conditional-put=false") })
}

// TestConformanceObjectLock runs the suite, unchanged, in buckets made
// with object lock (init --object-lock), where every object has versions
// and Remove deletes a file by its version: files saved without a
// retention behave as in any bucket.
func TestConformanceObjectLock(t *testing.T) {
	conformanceObjectLock(t, minioServer(t))
}

// TestConformanceObjectLockSeaweedFS is TestConformanceObjectLock against
// SeaweedFS.
func TestConformanceObjectLockSeaweedFS(t *testing.T) {
	conformanceObjectLock(t, seaweedServer(t))
}

func conformanceObjectLock(t *testing.T, srv server) {
	backendtest.Run(t, func(t *testing.T) backend.Storage {
		st, l, _, bucket := lockedBucket(t, srv)
		if cfg, err := l.ObjectLock(ctx); err != nil || !cfg.Enabled {
			t.Fatalf("ObjectLock of bucket %s = %+v, %v; want enabled", bucket, cfg, err)
		}
		return st
	})
}

func TestOpenMissing(t *testing.T) {
	srv := miniotest.Get(t)
	for _, u := range []string{srv.URL(miniotest.NewBucket(t), ""), srv.URL(miniotest.NewBucket(t), "a/b")} {
		cfg, err := s3.ParseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3.Open(ctx, cfg, envOf(srv.Env())); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("Open(%s): got %v, want ErrNotExist", u, err)
		}
	}
}
