package s3

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/minio/minio-go/v7"

	"strata/repo/backend"
)

// maxPut is the largest object S3 takes in a single PUT.
const maxPut = 5 << 30

// Save implements backend.Storage with one PUT request (docs/design.md,
// "The S3 backend"). The content is read twice: once for its MD5 and
// SHA-256, sent as Content-MD5 and in the request's signature so that the
// server refuses bytes damaged on the way, then for the upload. A PUT is
// atomic on every S3 server: a failed or cancelled one stores nothing.
//
// Write-once: with ConditionalPut (the default) the PUT carries
// If-None-Match: *, and the server refuses to replace a stored file (412,
// ErrExists), so of concurrent Saves of one name exactly one wins. Without
// it (conditional-put=false, for servers that lack conditional writes)
// Save first asks whether the file exists, and a Save of the config reads
// it back afterwards (readBack); two Saves of one name at the same moment
// may then both succeed, the later one's bytes staying.
func (b *Backend) Save(ctx context.Context, h backend.Handle, content backend.RewindReader) error {
	return b.save(ctx, h, content, nil)
}

// save is Save, with the retention r when not nil.
func (b *Backend) save(ctx context.Context, h backend.Handle, content backend.RewindReader, r *backend.Retention) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	ctx = withNote(ctx)
	what := "save " + b.what(h)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n := content.Length()
	if n < 0 {
		return fmt.Errorf("%s: %w: negative length %d", what, backend.ErrInvalid, n)
	}
	if n > maxPut {
		return backend.MarkPermanent(fmt.Errorf("%s: %d bytes, more than the %d bytes of a single upload", what, n, int64(maxPut)))
	}
	sumMD5, sumSHA, err := checksums(ctx, content)
	if err != nil {
		return fmt.Errorf("%s: reading the content: %w", what, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := content.Rewind(); err != nil {
		return backend.MarkPermanent(fmt.Errorf("%s: %w", what, err))
	}
	opts := minio.PutObjectOptions{
		ContentType:  "application/octet-stream",
		StorageClass: b.cfg.StorageClass[h.Type],
	}
	if r != nil {
		opts.Mode = minio.RetentionMode(r.Mode)
		opts.RetainUntilDate = r.Until.UTC()
	}
	if b.cfg.ConditionalPut {
		opts.SetMatchETagExcept("*")
	} else if _, err := b.Stat(ctx, h); err == nil {
		return fmt.Errorf("%s: %w", what, backend.ErrExists)
	} else if !errors.Is(err, backend.ErrNotExist) {
		return err
	}
	body := &putBody{ctxReader: ctxReader{ctx, content}}
	_, err = b.core.PutObject(ctx, b.cfg.Bucket, b.key(h), io.LimitReader(body, n), n, sumMD5, sumSHA, opts)
	body.close()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return b.classify(ctx, err, opWrite, what)
	}
	if !b.cfg.ConditionalPut && h.Type == backend.ConfigFile {
		return b.readBack(ctx, h, sumSHA, what)
	}
	return nil
}

// readBack is the second half of the fallback for servers without
// conditional writes, for the config, the one file whose name says nothing
// of its content: it reads the config it has just stored and fails with
// ErrExists when the bytes are not its own, another Save of the config
// having stored its own after this one's check. Two Saves whose PUTs both
// came before either's read-back still both succeed, the later one's bytes
// staying (docs/design.md, "The S3 backend", Write-once).
func (b *Backend) readBack(ctx context.Context, h backend.Handle, sumSHA, what string) error {
	stored, err := b.Load(ctx, h, 0, 0)
	if err != nil {
		return fmt.Errorf("%s: reading it back: %w", what, err)
	}
	if sum := sha256.Sum256(stored); hex.EncodeToString(sum[:]) != sumSHA {
		return fmt.Errorf("%s: %w: another Save stored its config at the same moment (conditional-put=false)", what, backend.ErrExists)
	}
	return nil
}

// checksums reads the whole content and returns its MD5 (base64, as
// Content-MD5 wants it) and SHA-256 (hex, as the signature wants it).
func checksums(ctx context.Context, content backend.RewindReader) (sumMD5, sumSHA string, err error) {
	m, s := md5.New(), sha256.New()
	if _, err := backend.CopyContent(io.MultiWriter(m, s), &ctxReader{ctx, content}, content.Length()); err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), nil
}

// Remove implements backend.Storage. S3 answers a DELETE of a missing key
// with success, so Remove asks first whether the file exists (a HEAD). In
// a bucket with object lock it deletes by version (removeLocked).
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	ctx = withNote(ctx)
	what := "remove " + b.what(h)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// The HEAD comes first: a missing file fails before any other
	// request, which the retrying wrapper relies on (a Remove that finds
	// no file after a failed attempt counts as done).
	st, version, err := b.lockState(ctx, h, "remove")
	if err != nil {
		return err
	}
	lock, err := b.ObjectLock(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if lock.Enabled {
		return b.removeLocked(ctx, h, st, version, what)
	}
	err = b.client.RemoveObject(ctx, b.cfg.Bucket, b.key(h), minio.RemoveObjectOptions{})
	return b.classify(ctx, err, opWrite, what)
}

// putBody is the body of a PUT. net/http may go on reading a request's
// body in its own goroutine after the request failed, while the caller
// (the retrying wrapper) already rewinds the content for the next try: a
// closed putBody reads nothing more, and close waits for a read in
// progress, so no read of the content outlives Save.
type putBody struct {
	mu     sync.Mutex
	closed bool
	ctxReader
}

func (b *putBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	return b.ctxReader.Read(p)
}

func (b *putBody) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

var errBodyClosed = errors.New("the upload's body was read after its request ended")

// ctxReader stops reading once ctx is done, so a cancelled Save stops
// sending and its PUT fails (storing nothing).
type ctxReader struct {
	ctx context.Context
	rd  io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.rd.Read(p)
}
