// Package s3test holds what the test helpers that start a real
// S3-compatible server on loopback share (internal/miniotest for MinIO,
// internal/seaweedtest for a SeaweedFS cluster): finding the server's
// binary, free ports and made-up credentials, starting a server process
// that dies with the test binary and waiting until it answers, and the one
// server of a test binary that the first test asking for it starts.
//
// Words: a store is an S3 endpoint with the credentials that sign requests
// to it; a process is one server process of a store.
package s3test
