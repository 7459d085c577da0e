// Package mem is a backend.Storage that keeps files in memory, for tests
// (the repotest helper builds repositories on it). It follows the same
// contract as every backend and passes backendtest.Run; nothing is durable.
//
// Layer: a leaf under repo/backend; it imports only package backend.
//
// Words: file, handle, file type (see package backend).
package mem
