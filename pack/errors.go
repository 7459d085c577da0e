package pack

import "errors"

// Errors of pack, compared with errors.Is. Messages that wrap them add the
// entry, blob or pack position that failed.
var (
	// ErrInvalidHeader: a pack's header length, sealed header or header
	// entries are malformed, damaged or were sealed with another key. The
	// pack cannot be read through its header; `check` reports it, and the
	// blobs it holds must come from another pack or a new backup.
	ErrInvalidHeader = errors.New("invalid pack header")

	// ErrInvalidBlob: a blob's stored payload does not decompress to the
	// plaintext its header entry describes. Authentication failures of a
	// blob are reported with the Sealer's own error instead.
	ErrInvalidBlob = errors.New("invalid blob")

	// ErrPackFull: Writer.Add refused a blob because the pack would exceed
	// the format's limits (4 GiB of blobs or MaxHeaderSize of header).
	// Finish the pack and add the blob to a new one.
	ErrPackFull = errors.New("pack full")
)
