package main

import (
	"context"
	"errors"
	"fmt"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/local"
	"strata/repo/backend/s3"
)

// storageSchemes are the kinds of storage --repo may name
// (docs/design.md, "Choosing a backend"); a path without a scheme is a
// local folder.
func storageSchemes() []backend.Scheme {
	return []backend.Scheme{local.Scheme(), s3.Scheme()}
}

// storageOptions are what a storage scheme may take from the command:
// its environment (credentials), where notices go, and how long remote
// storage retries a failing request (STRATA_RETRY_MAX).
func (g *globals) storageOptions() backend.Options {
	return backend.Options{Getenv: g.env.getenv, Notify: g.notice, MaxRetryTime: g.retryMax}
}

// repoName is --repo as messages may show it: without a secret.
func (g *globals) repoName() string { return backend.Redact(g.repoPath) }

// name is --from-repo as messages may show it: without a secret.
func (f fromFlags) name() string { return backend.Redact(f.repo) }

// openStorage opens the storage of the existing repository at location
// (--repo, or a source repository's).
func (g *globals) openStorage(ctx context.Context, location string) (backend.Storage, error) {
	reg, err := backend.NewRegistry(storageSchemes()...)
	if err != nil {
		return nil, err
	}
	be, err := reg.Open(ctx, location, g.storageOptions())
	if errors.Is(err, backend.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", repo.ErrNoRepository, backend.Redact(location))
	}
	return be, err
}

// createStorage makes the container (folder, bucket) of a new repository
// at --repo when it does not exist.
func (g *globals) createStorage(ctx context.Context) (backend.Storage, error) {
	reg, err := backend.NewRegistry(storageSchemes()...)
	if err != nil {
		return nil, err
	}
	be, err := reg.Create(ctx, g.repoPath, g.storageOptions())
	if errors.Is(err, backend.ErrExists) {
		return nil, fmt.Errorf("%w at %s", repo.ErrRepositoryExists, g.repoName())
	}
	return be, err
}
