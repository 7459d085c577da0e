package registry

import (
	"context"
	"errors"
	"fmt"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/local"
	"strata/repo/backend/s3"
)

// Schemes are the kinds of storage a repository URL may name; a path
// without a scheme is a local folder.
func Schemes() []backend.Scheme {
	return []backend.Scheme{local.Scheme(), s3.Scheme()}
}

// New returns a registry of Schemes.
func New() (*backend.Registry, error) {
	return backend.NewRegistry(Schemes()...)
}

// Open opens the storage of the existing repository at repoURL. No
// repository there is an error wrapping repo.ErrNoRepository that names
// the URL without its secrets.
func Open(ctx context.Context, repoURL string, opts backend.Options) (backend.Storage, error) {
	reg, err := New()
	if err != nil {
		return nil, err
	}
	be, err := reg.Open(ctx, repoURL, opts)
	if errors.Is(err, backend.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", repo.ErrNoRepository, backend.Redact(repoURL))
	}
	return be, err
}

// Create makes the container (folder, bucket) of a new repository at
// repoURL when it does not exist. A repository there already is an error
// wrapping repo.ErrRepositoryExists.
func Create(ctx context.Context, repoURL string, opts backend.Options) (backend.Storage, error) {
	reg, err := New()
	if err != nil {
		return nil, err
	}
	be, err := reg.Create(ctx, repoURL, opts)
	if errors.Is(err, backend.ErrExists) {
		return nil, fmt.Errorf("%w at %s", repo.ErrRepositoryExists, backend.Redact(repoURL))
	}
	return be, err
}
