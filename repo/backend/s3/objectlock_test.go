package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"strata/repo/backend"
	"strata/repo/backend/s3"
)

// lockedBucket creates a repository's storage in a new bucket of srv made
// with object lock, as strata init --object-lock does, and returns it with
// a plain S3 client for the direct requests of the tests.
func lockedBucket(t *testing.T, srv server) (backend.Storage, backend.ObjectLocker, *minio.Client, string) {
	t.Helper()
	bucket := srv.newBucket(t)
	st, err := s3.Scheme().Create(ctx, "http://"+srv.endpoint+"/"+bucket+"/repo", backend.Options{Getenv: envOf(srv.env()), ObjectLock: true})
	if err != nil {
		t.Fatal(err)
	}
	client, err := minio.New(srv.endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.accessKey, srv.secretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return st, st.(backend.ObjectLocker), client, bucket
}

// TestObjectLock: a file saved with a retention cannot be removed or
// overwritten by strata, nor deleted by a direct S3 request for its
// version without the governance bypass; a delete without a version only
// hides it behind a delete marker, and it comes back when the marker is
// removed. Extending a retention moves it later, never sooner; a legal
// hold keeps a file without a retention until it is lifted; a file with
// no lock is removed with its version, leaving nothing behind.
func TestObjectLock(t *testing.T) {
	objectLock(t, minioServer(t))
}

// TestObjectLockSeaweedFS is TestObjectLock against SeaweedFS.
func TestObjectLockSeaweedFS(t *testing.T) {
	objectLock(t, seaweedServer(t))
}

func objectLock(t *testing.T, srv server) {
	st, l, client, bucket := lockedBucket(t, srv)
	if cfg, err := l.ObjectLock(ctx); err != nil || !cfg.Enabled || cfg.DefaultRetention != "" {
		t.Fatalf("ObjectLock = %+v, %v; want enabled without a default retention", cfg, err)
	}
	data := bytes.Repeat([]byte("locked "), 1000)
	h := backend.Handle{Type: backend.PackFile, Name: "ab01cd"}
	key := "repo/data/ab/ab01cd"
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := l.SaveRetained(ctx, h, backend.NewByteReader(data), backend.Retention{Mode: backend.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	state, err := l.LockState(ctx, h)
	if err != nil || state.Mode != backend.Governance || !state.Until.Equal(until) || state.LegalHold {
		t.Fatalf("LockState = %+v, %v; want governance until %v", state, err, until)
	}

	// strata cannot remove or overwrite it.
	err = st.Remove(ctx, h)
	var locked *backend.LockedError
	if !errors.As(err, &locked) || !errors.Is(err, backend.ErrLocked) || !locked.State.Until.Equal(until) {
		t.Fatalf("Remove of a locked file: %v, want ErrLocked until %v", err, until)
	}
	if err := st.Save(ctx, h, backend.NewByteReader([]byte("other"))); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("Save over a locked file: %v, want ErrExists", err)
	}

	// Nor can a direct delete of its version, without the bypass.
	info, err := client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID})
	if err == nil || !strings.Contains(err.Error(), srv.worm) {
		t.Fatalf("direct delete of the locked version: %v, want a refusal (%q)", err, srv.worm)
	}
	// A delete without a version hides the file behind a delete marker;
	// the locked version stays, and removing the marker brings it back.
	if err := client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, h); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("Stat behind a delete marker: %v, want ErrNotExist", err)
	}
	obj, err := client.GetObject(ctx, bucket, key, minio.GetObjectOptions{VersionID: info.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(kept, data) {
		t.Fatalf("the locked version behind the marker: %d bytes, %v", len(kept), err)
	}
	for v := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if v.IsDeleteMarker {
			if err := client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: v.VersionID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, err := st.Load(ctx, h, 0, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Load after the marker was removed: %d bytes, %v", len(got), err)
	}
	// A direct overwrite adds a version; the locked one stays as it was.
	if _, err := client.PutObject(ctx, bucket, key, strings.NewReader("forged"), 6, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err = client.GetObject(ctx, bucket, key, minio.GetObjectOptions{VersionID: info.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	if kept, err = io.ReadAll(obj); err != nil || !bytes.Equal(kept, data) {
		t.Fatalf("the locked version after an overwrite: %d bytes, %v", len(kept), err)
	}

	// Extending: later moves it, the same or sooner does not.
	h2 := backend.Handle{Type: backend.IndexFile, Name: "cd02ef"}
	if err := l.SaveRetained(ctx, h2, backend.NewByteReader(data), backend.Retention{Mode: backend.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	later := until.Add(24 * time.Hour)
	for _, c := range []struct {
		to    time.Time
		moved bool
		want  time.Time
	}{{later, true, later}, {later, false, later}, {until, false, later}} {
		moved, err := l.ExtendRetention(ctx, h2, backend.Retention{Mode: backend.Governance, Until: c.to})
		if err != nil || moved != c.moved {
			t.Fatalf("ExtendRetention to %v: moved %v, %v; want moved %v", c.to, moved, err, c.moved)
		}
		if st, err := l.LockState(ctx, h2); err != nil || !st.Until.Equal(c.want) {
			t.Fatalf("after extending to %v: %+v, %v; want until %v", c.to, st, err, c.want)
		}
	}

	// A legal hold keeps a file without a retention (a lock file, say).
	h3 := backend.Handle{Type: backend.LockFile, Name: "ef03"}
	if err := st.Save(ctx, h3, backend.NewByteReader([]byte("lock"))); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLegalHold(ctx, h3, true); err != nil {
		t.Fatal(err)
	}
	if st, err := l.LockState(ctx, h3); err != nil || !st.LegalHold || !st.Until.IsZero() {
		t.Fatalf("after SetLegalHold: %+v, %v", st, err)
	}
	if err := st.Remove(ctx, h3); !errors.Is(err, backend.ErrLocked) || !strings.Contains(err.Error(), "legal hold") {
		t.Fatalf("Remove under a legal hold: %v, want ErrLocked naming the hold", err)
	}
	if err := l.SetLegalHold(ctx, h3, false); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, h3); err != nil {
		t.Fatalf("Remove after the hold was lifted: %v", err)
	}
	for v := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "repo/locks/", WithVersions: true}) {
		t.Errorf("after Remove, a version is left: %+v", v)
	}
}

// TestObjectLockOff: in a bucket made without object lock, SaveRetained
// fails and says so.
func TestObjectLockOff(t *testing.T) {
	b := newBackend(t, "")
	if cfg, err := b.ObjectLock(ctx); err != nil || cfg.Enabled {
		t.Fatalf("ObjectLock of a bucket without it: %+v, %v", cfg, err)
	}
	err := b.SaveRetained(ctx, backend.Handle{Type: backend.PackFile, Name: "ab01"}, backend.NewByteReader([]byte("x")),
		backend.Retention{Mode: backend.Governance, Until: time.Now().Add(time.Hour)})
	if !errors.Is(err, backend.ErrNoObjectLock) || backend.KindOf(err) != backend.Permanent {
		t.Fatalf("SaveRetained in a bucket without object lock: %v, want ErrNoObjectLock", err)
	}
}

// TestRemoveLockedMeanwhile: a file locked between Remove's HEAD (which
// found it unlocked) and its DELETE (a legal hold placed by protect in
// another process) is refused by the server, and Remove reports
// ErrLocked, as for a file it found locked, on MinIO ("Object is WORM
// protected") and on SeaweedFS (a bare 403 AccessDenied, which Remove
// took for credentials that may not delete before it read the lock
// again). The file stays.
func TestRemoveLockedMeanwhile(t *testing.T) {
	removeLockedMeanwhile(t, minioServer(t))
}

// TestRemoveLockedMeanwhileSeaweedFS is TestRemoveLockedMeanwhile against
// SeaweedFS.
func TestRemoveLockedMeanwhileSeaweedFS(t *testing.T) {
	removeLockedMeanwhile(t, seaweedServer(t))
}

func removeLockedMeanwhile(t *testing.T, srv server) {
	bucket := srv.newBucket(t)
	client, err := minio.New(srv.endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.accessKey, srv.secretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	key := "repo/locks/ab01"
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: srv.endpoint})
	var held atomic.Bool // set by the proxy's goroutine
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/"+key) && held.CompareAndSwap(false, true) {
			on := minio.LegalHoldEnabled
			if err := client.PutObjectLegalHold(r.Context(), bucket, key, minio.PutObjectLegalHoldOptions{Status: &on}); err != nil {
				t.Errorf("placing the legal hold: %v", err)
			}
		}
		director(r)
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	st, err := s3.Scheme().Create(ctx, "http://"+front.Listener.Addr().String()+"/"+bucket+"/repo",
		backend.Options{Getenv: envOf(srv.env()), ObjectLock: true})
	if err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.LockFile, Name: "ab01"}
	if err := st.Save(ctx, h, backend.NewByteReader([]byte("lock"))); err != nil {
		t.Fatal(err)
	}
	err = st.Remove(ctx, h)
	if !held.Load() {
		t.Fatal("the proxy saw no DELETE")
	}
	var locked *backend.LockedError
	if !errors.As(err, &locked) || !locked.State.LegalHold {
		t.Fatalf("Remove of a file held after its HEAD: %v, want ErrLocked naming the legal hold", err)
	}
	if _, err := st.Stat(ctx, h); err != nil {
		t.Fatalf("the held file: %v", err)
	}
}
