package pack

import (
	"encoding/hex"
	"fmt"
)

// IDSize is the length of an ID in bytes: one BLAKE3-256 digest.
const IDSize = 32

// ID names a blob (keyed BLAKE3-256 of its plaintext) or a repository file
// (unkeyed BLAKE3-256 of the file's bytes). See docs/design.md, "IDs".
type ID [IDSize]byte

// ParseID decodes a 64-character hexadecimal ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, fmt.Errorf("invalid ID %q: want %d hex characters, got %d", s, 2*IDSize, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("invalid ID %q: %w", s, err)
	}
	return id, nil
}

// String returns the full hexadecimal form used in file names and JSON.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first eight hex characters, as listings show them.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// IsNull reports whether id is the zero ID, which names nothing.
func (id ID) IsNull() bool { return id == ID{} }

// MarshalText encodes the ID as hex, so IDs read well in JSON.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes a hex ID.
func (id *ID) UnmarshalText(b []byte) error {
	parsed, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
