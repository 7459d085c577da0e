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
// on the test server, with the query options of opts.
func newBackend(t *testing.T, opts string) *s3.Backend {
	t.Helper()
	srv := miniotest.Get(t)
	u := srv.URL(miniotest.NewBucket(t), "repos/one")
	if opts != "" {
		u += "?" + opts
	}
	cfg, err := s3.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.Create(ctx, cfg, envOf(srv.Env()))
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
