package local

import (
	"context"

	"strata/repo/backend"
)

// Scheme is the backend.Scheme "local": the location is the repository
// folder, "local:/srv/backup" or the bare path "/srv/backup".
func Scheme() backend.Scheme {
	return backend.Scheme{
		Name: "local",
		Open: func(_ context.Context, location string, _ backend.Options) (backend.Storage, error) {
			return Open(location)
		},
		Create: func(_ context.Context, location string, _ backend.Options) (backend.Storage, error) {
			return Create(location)
		},
	}
}
