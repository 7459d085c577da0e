package index

import "errors"

// ErrInvalidFile: an index file's plaintext is malformed, truncated, of an
// unknown version or breaks a rule of docs/design.md, "Index files".
// Decode wraps it with the position of the pack and blob at fault (counted
// from 0). Nothing is lost with a damaged index file: every entry it held is
// also in the header of its pack, from which the index can be rebuilt.
var ErrInvalidFile = errors.New("invalid index file")
