// Package objectlock keeps the files of a repository under S3 object lock
// for as long as its snapshots need them (docs/design.md, "Object lock"):
// ExtendLocks renews the retention of every file a kept snapshot needs,
// and Hold places or lifts a legal hold on the files of one snapshot
// (strata protect and unprotect).
//
// Layer: above repo and prune (whose marking of used blobs it shares);
// it talks to storage through backend.ObjectLocker.
//
// Words: the files a snapshot needs are its snapshot file, the packs
// holding its blobs (every copy, delta bases included), the index files
// in force, the key files and the config; a retention keeps a file until
// a date, a legal hold until it is lifted.
package objectlock
