// Package backend is strata's storage interface: named, write-once files of
// a few types, listed, read (whole or by range), saved atomically and
// removed. Backends (local, mem) implement Storage; wrappers implement it
// too and wrap another Storage. Every backend passes the conformance suite
// in package backend/backendtest.
//
// Scheme and Registry choose a backend by a repository URL's scheme
// ("local:/srv/backup", or a bare path); RewindReader is the content of a
// Save; Kind classifies errors for the retrying wrapper (package retry).
//
// Words: file type (FileType), handle (Handle: type and name), storage,
// named by content (every file but the config), scheme, location (a URL
// without its scheme).
package backend
