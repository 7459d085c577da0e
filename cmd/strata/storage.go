package main

import (
	"context"
	"strings"

	"strata/repo/backend"
	"strata/repo/backend/registry"
	"strata/repo/backend/s3"
)

// storageOptions are what a storage scheme may take from the command:
// its environment (credentials), where notices go, and how long remote
// storage retries a failing request (STRATA_RETRY_MAX).
func (g *globals) storageOptions() backend.Options {
	return backend.Options{Getenv: g.env.getenv, Logger: g.logger(), MaxRetryTime: g.retryMax}
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

// sourceGetenv is the environment the source repository of copy (and of
// init --copy-chunker-params-from) reads its storage's settings from, so
// that the two sides of a copy can hold different credentials (two
// accounts, a read-only key for the source): STRATA_FROM_S3_ACCESS_KEY_ID,
// STRATA_FROM_S3_SECRET_ACCESS_KEY, STRATA_FROM_S3_SESSION_TOKEN and
// STRATA_FROM_S3_REGION stand in for their STRATA_S3_ names, and
// STRATA_FROM_AWS_PROFILE and STRATA_FROM_AWS_SHARED_CREDENTIALS_FILE for
// their AWS_ names. Once the source has credentials of its own (a
// STRATA_FROM_S3_ key or profile), the destination's (STRATA_S3_*,
// AWS_* keys, AWS_PROFILE) are hidden from it, so the two never mix; with
// none, the source reads the same environment as the destination.
func sourceGetenv(getenv func(string) string) func(string) string {
	own := sourceHasOwnCredentials(getenv)
	return func(key string) string {
		switch key {
		case "STRATA_S3_ACCESS_KEY_ID", "STRATA_S3_SECRET_ACCESS_KEY", "STRATA_S3_SESSION_TOKEN",
			"AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE":
			if v := getenv("STRATA_FROM_" + strings.TrimPrefix(key, "STRATA_")); v != "" || own {
				return v
			}
		case "STRATA_S3_REGION":
			if v := getenv("STRATA_FROM_S3_REGION"); v != "" {
				return v
			}
		case "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN":
			if own {
				return ""
			}
		}
		return getenv(key)
	}
}

// sourceHasOwnCredentials reports whether the source repository has
// credentials of its own (sourceGetenv).
func sourceHasOwnCredentials(getenv func(string) string) bool {
	return getenv("STRATA_FROM_S3_ACCESS_KEY_ID") != "" || getenv("STRATA_FROM_AWS_PROFILE") != ""
}

// sourceCredentialsHint names where sourceGetenv finds the source's
// credentials, for the error of a source storage that refuses them: its
// own variables, and the destination's too while it has none of its own.
func sourceCredentialsHint(getenv func(string) string) string {
	const own = "the source's: STRATA_FROM_S3_ACCESS_KEY_ID and STRATA_FROM_S3_SECRET_ACCESS_KEY, or STRATA_FROM_AWS_PROFILE"
	if sourceHasOwnCredentials(getenv) {
		return own
	}
	return own + "; without those, the destination's are used: " + s3.CredentialSources
}
