// Package s3 is the backend.Storage of repositories in an S3-compatible
// bucket (Amazon S3, MinIO, SeaweedFS, Ceph, ...), through minio-go: the
// repository's files are objects under a prefix, laid out as on disk
// (docs/design.md, "The S3 backend"). Saves are single PUT requests with
// content checksums and, where the server has them, conditional writes;
// a watchdog cancels requests that stall; errors are mapped to the
// backend's sentinels and kinds for the retrying wrapper.
//
// Layer: a backend under repo/backend; it knows nothing of the repository
// above it.
//
// Words: endpoint (host[:port] of the server), bucket, prefix (the folder
// in the bucket that holds the repository), key (an object's name: prefix
// and the file's path), storage class.
package s3
