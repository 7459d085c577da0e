// Package backend is strata's storage interface: named, write-once files of
// a few types, listed, read (whole or by range), saved atomically and
// removed. Backends (local, mem) implement Storage; wrappers implement it
// too and wrap another Storage. Every backend passes the conformance suite
// in package backend/backendtest.
//
// Words: file type (FileType), handle (Handle: type and name), storage.
package backend
