package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/registry"
	"strata/repo/crypto"
)

// OpenRequest names a repository and how to open it.
type OpenRequest struct {
	// URL is the repository: a folder, or a URL whose scheme names its
	// storage ("local:/srv/backup", "s3:https://host/bucket/prefix").
	URL string
	// Password is the repository's password. PasswordFunc, when set, is
	// asked for it instead, once the storage is open (so that a missing
	// repository is told before a prompt).
	Password     string
	PasswordFunc func() (string, error)
	// Getenv reads storage credentials (AWS_ACCESS_KEY_ID, ...); nil
	// reads the process's environment.
	Getenv func(string) string
	// CredentialsHint names where Getenv finds the credentials, for the
	// error of a storage that refuses them (backend.Options); empty: the
	// storage's own names.
	CredentialsHint string
	// RetryMax bounds how long remote storage retries a failing request;
	// 0: the storage's default.
	RetryMax time.Duration
	// LockLease is how long a lock counts without a refresh; 0: the
	// default (15 minutes).
	LockLease time.Duration
	// KDF is the Argon2id cost of new key files; zero: the default.
	KDF crypto.KDFParams
	// Logger receives the repository's and the storage's notices.
	Logger *slog.Logger
}

// Name is the repository URL as messages may show it: without a secret.
func (req OpenRequest) Name() string { return backend.Redact(req.URL) }

// StorageOptions are the backend options of req.
func (req OpenRequest) StorageOptions() backend.Options {
	return backend.Options{Getenv: req.Getenv, Logger: logger(req.Logger), MaxRetryTime: req.RetryMax, CredentialsHint: req.CredentialsHint}
}

// RepoOptions are the repository options of req.
func (req OpenRequest) RepoOptions() repo.Options {
	return repo.Options{KDF: req.KDF, Logger: logger(req.Logger), LockLease: req.LockLease}
}

// Open opens the repository at req.URL, without its index: workflows
// load it under their lock (WithLock). Storage is chosen by the URL's
// scheme (repo/backend/registry).
func Open(ctx context.Context, req OpenRequest) (*repo.Repository, error) {
	if req.URL == "" {
		return nil, fmt.Errorf("%w: no repository URL given", repo.ErrNoRepository)
	}
	be, err := registry.Open(ctx, req.URL, req.StorageOptions())
	if err != nil {
		return nil, err
	}
	pw := req.Password
	if req.PasswordFunc != nil {
		if pw, err = req.PasswordFunc(); err != nil {
			return nil, err
		}
	}
	return repo.Open(ctx, be, pw, req.RepoOptions())
}
