// Package registry is the table of storage schemes strata knows: which
// backend a repository URL names ("local:/srv/backup", a bare path,
// "s3:https://host/bucket/prefix"), opened or created through
// backend.Registry (docs/design.md, "Choosing a backend").
//
// It sits above the backends (it imports every one of them) and below
// the workflows and the CLI, which choose storage only through it.
//
// Words: scheme, location, repository URL, as in package backend.
package registry
