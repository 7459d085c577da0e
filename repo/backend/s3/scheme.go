package s3

import (
	"context"

	"strata/repo/backend"
	"strata/repo/backend/retry"
)

// Scheme is the backend.Scheme "s3": the location is
// http[s]://host[:port]/bucket[/prefix][?options] (ParseURL). The storage
// it returns retries failed requests (package retry) for up to
// opts.MaxRetryTime, telling opts.Logger of each retry; Create makes the
// bucket when it does not exist.
func Scheme() backend.Scheme {
	open := func(ctx context.Context, location string, opts backend.Options, create bool) (backend.Storage, error) {
		cfg, err := ParseURL(location)
		if err != nil {
			return nil, err
		}
		b, err := New(cfg, opts.Env)
		if err != nil {
			return nil, err
		}
		if opts.CredentialsHint != "" {
			b.credentialsHint = opts.CredentialsHint
		}
		r := retry.New(b, retry.Options{MaxTime: opts.MaxRetryTime, Logger: opts.Logger})
		if create {
			err = b.create(ctx, r, opts.ObjectLock)
		} else {
			err = b.checkRepository(ctx, r)
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return backend.Scheme{
		Name: SchemeName,
		Open: func(ctx context.Context, location string, opts backend.Options) (backend.Storage, error) {
			return open(ctx, location, opts, false)
		},
		Create: func(ctx context.Context, location string, opts backend.Options) (backend.Storage, error) {
			return open(ctx, location, opts, true)
		},
	}
}
