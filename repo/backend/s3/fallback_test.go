package s3_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"strata/repo/backend"
	"strata/repo/backend/s3"
)

// TestNoConditionalPutReadBack: with conditional-put=false a Save of the
// config whose bytes another Save replaced between its PUT and its answer
// (two inits of one repository at the same moment, the window the check
// before the PUT leaves) fails with ErrExists: the read-back after the PUT
// sees the other config. A proxy stores the rival config right after the
// server stored this one and before passing its answer on. Without the
// read-back both Saves would succeed and the first init would go on with a
// config that is not the repository's.
func TestNoConditionalPutReadBack(t *testing.T) {
	noConditionalPutReadBack(t, minioServer(t))
}

// TestNoConditionalPutReadBackSeaweedFS is TestNoConditionalPutReadBack
// against SeaweedFS.
func TestNoConditionalPutReadBackSeaweedFS(t *testing.T) {
	noConditionalPutReadBack(t, seaweedServer(t))
}

func noConditionalPutReadBack(t *testing.T, srv server) {
	bucket := srv.newBucket(t)
	client, err := minio.New(srv.endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.accessKey, srv.secretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	rival := []byte("the config of the other init")
	to := &url.URL{Scheme: "http", Host: srv.endpoint}
	proxy := httputil.NewSingleHostReverseProxy(to)
	var raced atomic.Bool // set by the proxy's goroutine
	proxy.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/repo/config") && resp.StatusCode == http.StatusOK && raced.CompareAndSwap(false, true) {
			_, err := client.PutObject(r.Context(), bucket, "repo/config", bytes.NewReader(rival), int64(len(rival)), minio.PutObjectOptions{})
			return err
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	cfg, err := s3.ParseURL("s3:http://" + front.Listener.Addr().String() + "/" + bucket + "/repo?conditional-put=false")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.Create(ctx, cfg, envOf(srv.env()))
	if err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.ConfigFile}
	err = b.Save(ctx, h, backend.NewByteReader([]byte("the config of this init")))
	if !raced.Load() {
		t.Fatal("the proxy saw no PUT of the config")
	}
	if !errors.Is(err, backend.ErrExists) {
		t.Fatalf("Save of the config replaced before its answer: %v, want ErrExists", err)
	}
	if got, err := b.Load(ctx, h, 0, 0); err != nil || !bytes.Equal(got, rival) {
		t.Fatalf("the stored config: %q, %v; want the other init's", got, err)
	}
	// Without a rival, the read-back finds its own bytes.
	if err := b.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, h, backend.NewByteReader([]byte("again"))); err != nil {
		t.Fatalf("Save of the config with no rival: %v", err)
	}
}
