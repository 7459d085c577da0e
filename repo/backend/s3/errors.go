package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

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
	opLock // setting a retention or legal hold
)

// errWORM marks a write the server refused because the object is under
// object lock ("Object is WORM protected").
var errWORM = errors.New("refused by the object lock")

// classify turns an error of minio-go into one of the backend's: the
// sentinels of package backend (not exist, exists, range, full, read-only)
// where the answer means one, and a Kind for the retrying wrapper
// (throttled for 503 SlowDown and 429, with the Retry-After the server
// sent; unreachable for a refused connection or an unknown host;
// permanent for a failed TLS handshake; transient for 5xx, timeouts and
// broken connections; permanent for the rest). ctx is the request's,
// carrying its answerNote; what names the file or the listing. Messages
// carry the server's error code and message, never a credential:
// minio-go's errors hold none, and requests are signed in headers, never
// in URLs.
func (b *Backend) classify(ctx context.Context, err error, o op, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, errStalled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := b.connectError(err, what); err != nil {
		return err
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
		return backend.MarkThrottled(errors.New(msg+": the storage asks to slow down"), noteOf(ctx).RetryAfter())
	case er.Code == "XMinioStorageFull" || er.Code == "QuotaExceeded" || er.StatusCode == http.StatusInsufficientStorage:
		return fmt.Errorf("%s: %w", msg, backend.ErrFull)
	case (er.Code == "AccessDenied" || er.Code == "InvalidRequest") && (o == opWrite || o == opLock) && strings.Contains(er.Message, "WORM"):
		// MinIO: 403 AccessDenied for a version under a retention, 400
		// InvalidRequest for one under a legal hold.
		return fmt.Errorf("%s: %w", msg, errWORM)
	case er.Code == "InvalidRequest" && (o == opLock || strings.Contains(er.Message, "ObjectLockConfiguration")) || er.Code == "ObjectLockConfigurationNotFoundError":
		return fmt.Errorf("%s: %w", msg, backend.ErrNoObjectLock)
	case er.Code == "AccessDenied" && o == opWrite:
		return fmt.Errorf("%s: the credentials may not write here: %w", msg, backend.ErrReadOnly)
	case er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch" || er.Code == "AccessDenied" || er.StatusCode == http.StatusForbidden:
		return backend.MarkPermanent(fmt.Errorf("%s: check the credentials (%s)", msg, b.credentialsHint))
	case er.StatusCode >= 500 || er.Code == "RequestTimeout" || er.Code == "ConditionalRequestConflict" || er.Code == "InternalError" ||
		er.StatusCode == http.StatusRequestTimeout || er.StatusCode == http.StatusConflict && o == opWrite:
		// 409 ConditionalRequestConflict: another conditional write of the
		// name is in flight; trying again gets 412 or success.
		return backend.MarkTransient(errors.New(msg))
	}
	return backend.MarkPermanent(errors.New(msg))
}

// connectError classifies the errors of reaching the endpoint at all, or
// returns nil for others. Nothing listening (a refused connection) and a
// host name that does not resolve are Unreachable: the retrying wrapper
// tries a few times, for a server that is restarting, then gives up
// rather than retry a wrong port for minutes. A TLS handshake that fails
// (the endpoint speaks plain HTTP, or its certificate is not trusted) is
// Permanent: it fails the same way every time.
func (b *Backend) connectError(err error, what string) error {
	var dnsErr *net.DNSError
	var recordErr tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return backend.MarkUnreachable(fmt.Errorf("%s: connection refused by %s: nothing listens there; is the S3 server running, and are the host and port in the repository URL right? (%w)", what, b.cfg.Endpoint, err))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return backend.MarkUnreachable(fmt.Errorf("%s: unknown host %s: check the host in the repository URL (%w)", what, dnsErr.Name, err))
	case errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &recordErr):
		return backend.MarkPermanent(fmt.Errorf("%s: %s answers in plain HTTP, not HTTPS: use s3:http://%s/... if the endpoint is on loopback or a private network, else its HTTPS port (%w)", what, b.cfg.Endpoint, b.cfg.Endpoint, err))
	case errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &badCert) || errors.As(err, &verifyErr):
		return backend.MarkPermanent(fmt.Errorf("%s: the TLS certificate of %s is not trusted: %w (install its CA in the system's trust store, or set SSL_CERT_FILE)", what, b.cfg.Endpoint, err))
	}
	return nil
}
