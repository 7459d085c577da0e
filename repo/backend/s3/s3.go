package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"strata/repo/backend"
)

// Backend stores a repository under a prefix of a bucket; it is safe for
// concurrent use.
type Backend struct {
	cfg    Config
	client *minio.Client
	core   minio.Core
	prefix string // cfg.Prefix with a trailing slash, or ""
	region string // the bucket's region as configured; "": ask the server
	// credentialsHint names where the credentials come from, in the
	// error of a request refused for them (backend.Options.CredentialsHint).
	credentialsHint string

	lockMu  sync.Mutex
	lockCfg *backend.ObjectLockConfig // the bucket's, once asked (ObjectLock)
}

var _ backend.Storage = (*Backend)(nil)

// Getenv reads an environment variable (backend.Options.Env); nil reads
// the process's own.
type Getenv = func(string) string

// New returns a backend for cfg. It sends no request; Open and Create
// check the repository. Credentials come from, in order:
// STRATA_S3_ACCESS_KEY_ID and STRATA_S3_SECRET_ACCESS_KEY (with
// STRATA_S3_SESSION_TOKEN), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
// (with AWS_SESSION_TOKEN), the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
// or default), then the instance role (EC2, ECS or EKS metadata).
func New(cfg Config, getenv Getenv) (*Backend, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	region := cfg.Region
	for _, name := range []string{"STRATA_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = getenv(name)
		}
	}
	lookup := minio.BucketLookupAuto
	switch cfg.Addressing {
	case "path":
		lookup = minio.BucketLookupPath
	case "virtual":
		lookup = minio.BucketLookupDNS
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentialChain(getenv),
		Secure:       cfg.Secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    &watchdog{inner: transport(cfg), stall: cfg.StallTimeout},
		// One try: the retrying wrapper (package retry) retries, with
		// longer waits when the storage asks to slow down.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 repository %s: %w", cfg, err)
	}
	client.SetAppInfo("strata", "1")
	b := &Backend{cfg: cfg, client: client, core: minio.Core{Client: client}, region: region, credentialsHint: CredentialSources}
	if cfg.Prefix != "" {
		b.prefix = cfg.Prefix + "/"
	}
	return b, nil
}

// transport is the HTTP transport of cfg: at most cfg.Connections
// connections to the endpoint, kept open between requests.
func transport(cfg Config) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		MaxConnsPerHost:       cfg.Connections,
		MaxIdleConns:          cfg.Connections,
		MaxIdleConnsPerHost:   cfg.Connections,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ExpectContinueTimeout: time.Second,
		// Packs are compressed and encrypted: asking for gzip would only
		// cost the server time.
		DisableCompression: true,
	}
}

// CredentialSources names the sources of credentialChain (New), for the
// error of a request refused for its credentials.
const CredentialSources = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, STRATA_S3_*, ~/.aws/credentials or the instance role"

// credentialChain is minio-go's chain of credential sources in the order
// New documents. Only the first with a key is used.
func credentialChain(getenv Getenv) *credentials.Credentials {
	file := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" {
		if home, err := os.UserHomeDir(); err == nil {
			file = filepath.Join(home, ".aws", "credentials")
		}
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.Static{Value: credentials.Value{
			AccessKeyID:     getenv("STRATA_S3_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("STRATA_S3_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("STRATA_S3_SESSION_TOKEN"),
			SignerType:      credentials.SignatureV4,
		}},
		&credentials.Static{Value: credentials.Value{
			AccessKeyID:     firstOf(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
			SecretAccessKey: firstOf(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
			SignerType:      credentials.SignatureV4,
		}},
		&credentials.FileAWSCredentials{Filename: file, Profile: getenv("AWS_PROFILE")},
		// The metadata service answers at once on a cloud instance; a
		// short timeout keeps a machine without one from hanging.
		&credentials.IAM{Client: &http.Client{Timeout: 5 * time.Second}},
	})
}

func firstOf(getenv Getenv, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Open returns the backend of the repository at cfg. It fails with an
// error wrapping backend.ErrNotExist when the bucket is missing or holds
// no repository under the prefix. Scheme opens it with retries.
func Open(ctx context.Context, cfg Config, getenv Getenv) (*Backend, error) {
	b, err := New(cfg, getenv)
	if err != nil {
		return nil, err
	}
	if err := b.checkRepository(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkRepository fails with ErrNotExist unless the config or a key file
// is stored, asking through s (b, or b with retries): a repository whose
// config was lost is still one (repair config rewrites it from a key
// file's copy).
func (b *Backend) checkRepository(ctx context.Context, s backend.Storage) error {
	_, err := s.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if err == nil || !errors.Is(err, backend.ErrNotExist) {
		return err
	}
	found := false
	stop := errors.New("found")
	err = s.List(ctx, backend.KeyFile, func(backend.FileInfo) error { found = true; return stop })
	if found {
		return nil
	}
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return err
	}
	return fmt.Errorf("no repository at %s: %w", b.Location(), backend.ErrNotExist)
}

// Create returns the backend of a new repository at cfg, creating the
// bucket when it does not exist (in the configured region). It fails with
// an error wrapping backend.ErrExists when a config is stored already.
// The config itself is not written here: the caller saves it last.
func Create(ctx context.Context, cfg Config, getenv Getenv) (*Backend, error) {
	b, err := New(cfg, getenv)
	if err != nil {
		return nil, err
	}
	if err := b.create(ctx, b, false); err != nil {
		return nil, err
	}
	return b, nil
}

// create makes the bucket unless it exists (with object lock when
// objectLock) and checks, through s, that no config is stored.
func (b *Backend) create(ctx context.Context, s backend.Storage, objectLock bool) error {
	if err := b.makeBucket(ctx, objectLock); err != nil {
		return err
	}
	_, err := s.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	switch {
	case err == nil:
		return fmt.Errorf("create repository at %s: config: %w", b.Location(), backend.ErrExists)
	case !errors.Is(err, backend.ErrNotExist):
		return fmt.Errorf("create repository at %s: %w", b.Location(), err)
	}
	return nil
}

// makeBucket creates the bucket unless it exists, with object lock (and
// so versions) when objectLock: S3 turns object lock on when it creates
// a bucket.
func (b *Backend) makeBucket(ctx context.Context, objectLock bool) error {
	ctx = withNote(ctx)
	what := "bucket " + b.cfg.Bucket + " at " + b.cfg.Endpoint
	exists, err := b.client.BucketExists(ctx, b.cfg.Bucket)
	if err != nil {
		return b.classify(ctx, err, opRead, what)
	}
	if exists {
		return nil
	}
	err = b.client.MakeBucket(ctx, b.cfg.Bucket, minio.MakeBucketOptions{Region: b.region, ObjectLocking: objectLock})
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "BucketAlreadyOwnedByYou" || er.Code == "BucketAlreadyExists") {
		// Created meanwhile by another init; BucketAlreadyExists for a
		// bucket of someone else shows at the first write.
		return nil
	}
	if err != nil {
		return b.classify(ctx, err, opWrite, "creating "+what)
	}
	return nil
}

// Location implements backend.Storage: the repository's URL without its
// options.
func (b *Backend) Location() string { return b.cfg.String() }

// Remote implements backend.Remote: every operation is a request.
func (b *Backend) Remote() bool { return true }

// key is the object key of h: the prefix, then the layout of
// docs/design.md, "Layout on disk" (data/<2 hex>/<name>, index/<name>...).
func (b *Backend) key(h backend.Handle) string {
	return b.prefix + h.String()
}

// typePrefix is the key prefix of every file of type t.
func (b *Backend) typePrefix(t backend.FileType) string {
	return b.prefix + string(t) + "/"
}

// handleOf returns the handle stored under key, which starts with
// typePrefix(t); ok is false for keys that are no repository file of
// type t (stray objects, a pack in the wrong pack folder).
func (b *Backend) handleOf(t backend.FileType, key string) (backend.Handle, bool) {
	rest := strings.TrimPrefix(key, b.typePrefix(t))
	folder := ""
	if t == backend.PackFile {
		var found bool
		folder, rest, found = strings.Cut(rest, "/")
		if !found || len(folder) != 2 || !strings.HasPrefix(rest, folder) {
			return backend.Handle{}, false
		}
	}
	h := backend.Handle{Type: t, Name: rest}
	if h.Valid() != nil || strings.Contains(rest, "/") {
		return backend.Handle{}, false
	}
	return h, true
}

// what names h in messages: the repository's URL and the file's path.
func (b *Backend) what(h backend.Handle) string {
	return b.Location() + "/" + h.String()
}
