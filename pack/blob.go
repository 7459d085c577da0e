package pack

import "fmt"

// MaxBlobSize is the largest plaintext a blob may have. Readers reject
// entries that claim more, so a damaged header cannot make them allocate
// more than this for one blob.
const MaxBlobSize = 64 << 20

// BlobType says what a blob holds. Its value is the Type byte of a header
// entry.
type BlobType uint8

const (
	DataBlob BlobType = 0 // a chunk of file or table content
	TreeBlob BlobType = 1 // a serialized tree (directory listing)
)

// String returns "data" or "tree", the names used in listings and JSON.
func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	}
	return fmt.Sprintf("BlobType(%d)", uint8(t))
}

func (t BlobType) valid() bool { return t == DataBlob || t == TreeBlob }

// MarshalText encodes the type as "data" or "tree".
func (t BlobType) MarshalText() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("unknown blob type %d", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes "data" or "tree".
func (t *BlobType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "data":
		*t = DataBlob
	case "tree":
		*t = TreeBlob
	default:
		return fmt.Errorf("unknown blob type %q: want \"data\" or \"tree\"", b)
	}
	return nil
}

// Compression says how a blob's stored payload was made from its
// plaintext. Its value is the Compression byte of a header entry.
type Compression uint8

const (
	// Raw: the stored payload is the plaintext itself, used when zstd does
	// not make the blob smaller.
	Raw Compression = 0
	// Zstd: the stored payload is one zstd frame of the plaintext.
	Zstd Compression = 1
	// Delta: the stored payload is one zstd frame of the plaintext,
	// compressed with the base blob's plaintext as a raw-content dictionary
	// (what `zstd --patch-from=base` produces).
	Delta Compression = 2
)

// String returns "raw", "zstd" or "delta".
func (c Compression) String() string {
	switch c {
	case Raw:
		return "raw"
	case Zstd:
		return "zstd"
	case Delta:
		return "delta"
	}
	return fmt.Sprintf("Compression(%d)", uint8(c))
}

func (c Compression) valid() bool { return c <= Delta }

// MarshalText encodes the compression as "raw", "zstd" or "delta".
func (c Compression) MarshalText() ([]byte, error) {
	if !c.valid() {
		return nil, fmt.Errorf("unknown compression %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText decodes "raw", "zstd" or "delta".
func (c *Compression) UnmarshalText(b []byte) error {
	switch string(b) {
	case "raw":
		*c = Raw
	case "zstd":
		*c = Zstd
	case "delta":
		*c = Delta
	default:
		return fmt.Errorf("unknown compression %q: want \"raw\", \"zstd\" or \"delta\"", b)
	}
	return nil
}

// Blob is one entry of a pack header: where a blob lies in its pack and how
// to turn its sealed bytes back into plaintext.
//
// The JSON names (strata cat pack-header, cat index) are snake_case, as
// in every JSON strata prints.
type Blob struct {
	Type        BlobType    `json:"type"`
	Compression Compression `json:"compression"`
	ID          ID          `json:"id"`         // keyed hash of the plaintext, whatever the compression
	Base        ID          `json:"base"`       // the base blob's ID; non-null iff Compression == Delta
	Offset      uint32      `json:"offset"`     // where the sealed blob starts in the pack; set by Writer and DecodeHeader
	Length      uint32      `json:"length"`     // sealed bytes in the pack
	RawLength   uint32      `json:"raw_length"` // bytes of the plaintext
}

// String names the blob for error messages and logs.
func (b Blob) String() string {
	return fmt.Sprintf("%s blob %s", b.Type, b.ID.Short())
}
