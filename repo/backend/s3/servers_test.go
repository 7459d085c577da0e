package s3_test

import (
	"testing"

	"strata/internal/miniotest"
)

// server is an S3-compatible server on loopback that the tests run
// against.
type server struct {
	name      string
	endpoint  string // host:port
	accessKey string
	secretKey string
	newBucket func(testing.TB) string // a bucket name not yet made
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
		newBucket: miniotest.NewBucket}
}
