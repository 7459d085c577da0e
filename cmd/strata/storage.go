package main

import (
	"context"

	"strata/repo/backend"
	"strata/repo/backend/registry"
)

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

// createStorage makes the container (folder, bucket) of a new repository
// at --repo when it does not exist (docs/design.md, "Choosing a
// backend"), with object lock when objectLock.
func (g *globals) createStorage(ctx context.Context, objectLock bool) (backend.Storage, error) {
	opts := g.storageOptions()
	opts.ObjectLock = objectLock
	return registry.Create(ctx, g.repoPath, opts)
}

// openStorage opens the storage of the existing repository at location
// (--repo, or a source repository's).
func (g *globals) openStorage(ctx context.Context, location string) (backend.Storage, error) {
	return registry.Open(ctx, location, g.storageOptions())
}
