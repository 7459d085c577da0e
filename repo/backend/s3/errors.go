package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/minio/minio-go/v7"

	"strata/repo/backend"
)

// op is what a request was doing, for the error mapping: the same answer
// means different things to a read and a write.
type op int

const (
	opRead op = iota
	opWrite
	opList
)

// classify turns an error of minio-go into one of the backend's: the
// sentinels of package backend (not exist, exists, range, full, read-only)
// where the answer means one, and a Kind for the retrying wrapper
// (throttled for 503 SlowDown and 429, transient for 5xx, timeouts and
// broken connections, permanent for the rest). what names the file or the
// listing. Messages carry the server's error code and message, never a
// credential: minio-go's errors hold none, and requests are signed in
// headers, never in URLs.
func classify(err error, o op, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, errStalled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode == 0 && er.Code == "" {
		// No answer from the server: a network error, a stalled request,
		// a short body. Worth trying again.
		return backend.MarkTransient(fmt.Errorf("%s: %w", what, err))
	}
	msg := fmt.Sprintf("%s: %s (%s, HTTP %d)", what, er.Message, er.Code, er.StatusCode)
	if er.Message == "" {
		msg = fmt.Sprintf("%s: %s (HTTP %d)", what, er.Code, er.StatusCode)
	}
	switch {
	case er.Code == "NoSuchKey" || er.Code == "NoSuchBucket" || er.StatusCode == http.StatusNotFound:
		if er.Code == "NoSuchBucket" {
			msg = fmt.Sprintf("%s: the bucket %s does not exist", what, er.BucketName)
		}
		return fmt.Errorf("%s: %w", msg, backend.ErrNotExist)
	case er.StatusCode == http.StatusPreconditionFailed && o == opWrite:
		return fmt.Errorf("%s: %w", msg, backend.ErrExists)
	case er.Code == "InvalidRange" || er.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%s: %w", msg, backend.ErrRange)
	case er.Code == "SlowDown" || er.StatusCode == http.StatusServiceUnavailable || er.StatusCode == http.StatusTooManyRequests ||
		er.Code == "RequestLimitExceeded" || er.Code == "TooManyRequests" || er.Code == "XMinioServerNotInitialized":
		return backend.MarkThrottled(errors.New(msg+": the storage asks to slow down"), 0)
	case er.Code == "XMinioStorageFull" || er.Code == "QuotaExceeded" || er.StatusCode == http.StatusInsufficientStorage:
		return fmt.Errorf("%s: %w", msg, backend.ErrFull)
	case er.Code == "AccessDenied" && o == opWrite:
		return fmt.Errorf("%s: the credentials may not write here: %w", msg, backend.ErrReadOnly)
	case er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch" || er.Code == "AccessDenied" || er.StatusCode == http.StatusForbidden:
		return backend.MarkPermanent(fmt.Errorf("%s: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, STRATA_S3_*, ~/.aws/credentials or the instance role)", msg))
	case er.StatusCode >= 500 || er.Code == "RequestTimeout" || er.Code == "ConditionalRequestConflict" || er.Code == "InternalError" ||
		er.StatusCode == http.StatusRequestTimeout || er.StatusCode == http.StatusConflict && o == opWrite:
		// 409 ConditionalRequestConflict: another conditional write of the
		// name is in flight; trying again gets 412 or success.
		return backend.MarkTransient(errors.New(msg))
	}
	return backend.MarkPermanent(errors.New(msg))
}
