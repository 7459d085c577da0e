package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"strata/repo/backend"
)

var (
	_ backend.ObjectLocker = (*Backend)(nil)
	_ backend.DeleteProber = (*Backend)(nil)
)

// ObjectLock implements backend.ObjectLocker: whether the bucket was
// created with object lock, and its default retention, if any. The answer
// is kept: a bucket's object lock cannot be turned off.
func (b *Backend) ObjectLock(ctx context.Context) (backend.ObjectLockConfig, error) {
	b.lockMu.Lock()
	defer b.lockMu.Unlock()
	if b.lockCfg != nil {
		return *b.lockCfg, nil
	}
	ctx = withNote(ctx)
	what := "object lock configuration of bucket " + b.cfg.Bucket + " at " + b.cfg.Endpoint
	enabled, mode, validity, unit, err := b.client.GetObjectLockConfig(ctx, b.cfg.Bucket)
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "ObjectLockConfigurationNotFoundError" || er.Code == "ObjectLockConfigurationNotFound") {
		cfg := backend.ObjectLockConfig{}
		b.lockCfg = &cfg
		return cfg, nil
	}
	if err != nil {
		return backend.ObjectLockConfig{}, b.classify(ctx, err, opRead, what)
	}
	cfg := backend.ObjectLockConfig{Enabled: enabled == "Enabled"}
	if mode != nil && validity != nil && unit != nil {
		cfg.DefaultRetention = fmt.Sprintf("%s %d %s", *mode, *validity, *unit)
	}
	b.lockCfg = &cfg
	return cfg, nil
}

// SaveRetained implements backend.ObjectLocker: Save with the object's
// retention set in the PUT itself, so the file is never stored unlocked.
func (b *Backend) SaveRetained(ctx context.Context, h backend.Handle, content backend.RewindReader, r backend.Retention) error {
	if r.Mode != backend.Governance && r.Mode != backend.Compliance || r.Until.IsZero() {
		return fmt.Errorf("save %s: %w: retention %q until %v", b.what(h), backend.ErrInvalid, r.Mode, r.Until)
	}
	return b.save(ctx, h, content, &r)
}

// LockState implements backend.ObjectLocker with a HEAD request, whose
// answer carries the object's retention and legal hold.
func (b *Backend) LockState(ctx context.Context, h backend.Handle) (backend.LockState, error) {
	st, _, err := b.lockState(ctx, h, "lock state of")
	return st, err
}

// lockState returns the lock of h and the version ID of the stored
// object ("" in a bucket without versions), with one HEAD; doing names
// the operation in errors.
func (b *Backend) lockState(ctx context.Context, h backend.Handle, doing string) (backend.LockState, string, error) {
	if err := h.Valid(); err != nil {
		return backend.LockState{}, "", fmt.Errorf("lock state: %w", err)
	}
	ctx = withNote(ctx)
	what := doing + " " + b.what(h)
	info, err := b.client.StatObject(ctx, b.cfg.Bucket, b.key(h), minio.StatObjectOptions{})
	if err != nil {
		return backend.LockState{}, "", b.classify(ctx, err, opRead, what)
	}
	var st backend.LockState
	st.Mode = backend.RetentionMode(strings.ToUpper(info.Metadata.Get("X-Amz-Object-Lock-Mode")))
	if until := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); until != "" {
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			return backend.LockState{}, "", backend.MarkPermanent(fmt.Errorf("%s: the server's retain-until date %q: %w", what, until, err))
		}
		st.Until = t
	}
	st.LegalHold = strings.EqualFold(info.Metadata.Get("X-Amz-Object-Lock-Legal-Hold"), "ON")
	version := info.VersionID
	if version == "null" {
		version = ""
	}
	return st, version, nil
}

// ExtendRetention implements backend.ObjectLocker: a HEAD, then a PUT of
// the retention when it would end sooner than r.Until.
func (b *Backend) ExtendRetention(ctx context.Context, h backend.Handle, r backend.Retention) (bool, error) {
	st, version, err := b.lockState(ctx, h, "extending the retention of")
	if err != nil {
		return false, err
	}
	if !st.Until.Before(r.Until) {
		return false, nil
	}
	mode := minio.RetentionMode(r.Mode)
	if st.Mode == backend.Compliance {
		// A compliance retention cannot become a governance one.
		mode = minio.Compliance
	}
	ctx = withNote(ctx)
	until := r.Until.UTC()
	err = b.client.PutObjectRetention(ctx, b.cfg.Bucket, b.key(h), minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until, VersionID: version})
	if err != nil {
		return false, b.classify(ctx, err, opLock, "extending the retention of "+b.what(h))
	}
	return true, nil
}

// SetLegalHold implements backend.ObjectLocker.
func (b *Backend) SetLegalHold(ctx context.Context, h backend.Handle, on bool) error {
	_, version, err := b.lockState(ctx, h, "setting the legal hold of")
	if err != nil {
		return err
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	ctx = withNote(ctx)
	err = b.client.PutObjectLegalHold(ctx, b.cfg.Bucket, b.key(h), minio.PutObjectLegalHoldOptions{Status: &status, VersionID: version})
	return b.classify(ctx, err, opLock, fmt.Sprintf("setting the legal hold of %s %s", b.what(h), status))
}

// removeLocked is Remove in a bucket with object lock, given the lock st
// and version the HEAD found: a file under lock
// is refused with a *backend.LockedError, without asking the server to
// delete it (which, without a version ID, would hide it behind a delete
// marker and leave the locked version in place); any other is deleted
// with its version ID, so that it is gone and its space freed.
func (b *Backend) removeLocked(ctx context.Context, h backend.Handle, st backend.LockState, version, what string) error {
	if st.Locked(time.Now()) {
		return &backend.LockedError{Handle: h, State: st}
	}
	err := b.client.RemoveObject(ctx, b.cfg.Bucket, b.key(h), minio.RemoveObjectOptions{VersionID: version})
	err = b.classify(ctx, err, opWrite, what)
	switch {
	case errors.Is(err, errWORM):
		// Locked meanwhile (extend-locks, protect) or by the server's
		// clock, which is the one that counts.
		st, _, _ = b.lockState(ctx, h, "remove")
		return &backend.LockedError{Handle: h, State: st, Err: err}
	case errors.Is(err, backend.ErrReadOnly):
		// SeaweedFS refuses a locked version with a bare 403
		// AccessDenied, as it refuses credentials that may not delete:
		// the lock, read again, tells them apart.
		if now, _, lerr := b.lockState(ctx, h, "remove"); lerr == nil && now.Locked(time.Now()) {
			return &backend.LockedError{Handle: h, State: now, Err: err}
		}
	}
	return err
}

// deleteProbe is the key CanDelete asks to delete under a type's folder:
// a name no listing reports (it starts with a dot) and no file has.
const deleteProbe = ".strata-delete-probe"

// CanDelete implements backend.DeleteProber: it asks the server to
// delete a key that does not exist under the type's folder. S3 checks
// the permission before it looks for the key, so an append-only
// credential is refused (403) and any other is told "done". In a bucket
// with versions the server adds a delete marker for the missing key,
// which CanDelete removes again.
func (b *Backend) CanDelete(ctx context.Context, t backend.FileType) (bool, error) {
	ctx = withNote(ctx)
	key := b.typePrefix(t) + deleteProbe
	what := "probing whether the credentials may delete in " + b.Location() + "/" + string(t)
	objects := make(chan minio.ObjectInfo, 1)
	objects <- minio.ObjectInfo{Key: key}
	close(objects)
	var res minio.RemoveObjectResult
	got := false
	for r := range b.client.RemoveObjectsWithResult(ctx, b.cfg.Bucket, objects, minio.RemoveObjectsOptions{}) {
		if !got {
			res, got = r, true
		}
	}
	if ctx.Err() != nil {
		return false, fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if !got {
		return true, nil
	}
	var er minio.ErrorResponse
	if errors.As(res.Err, &er) && er.Code == "AccessDenied" {
		return false, nil
	}
	if res.Err != nil && !(errors.As(res.Err, &er) && er.Code == "NoSuchKey") {
		return false, b.classify(ctx, res.Err, opRead, what)
	}
	if res.DeleteMarker && res.DeleteMarkerVersionID != "" {
		// Best effort: a stray delete marker under a name no file has
		// does no harm.
		_ = b.client.RemoveObject(ctx, b.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: res.DeleteMarkerVersionID})
	}
	return true, nil
}
