// Package pack reads and writes pack files, the files under data/ that hold
// blobs (docs/design.md, "Packs"). It compresses and seals single blobs
// (Encoder), opens and decompresses them again (Decoder), streams sealed
// blobs into a pack followed by its sealed header (Writer), and reads and
// validates the header of a stored pack (ReadHeader, DecodeHeader).
//
// Layer: pack sits below repo and knows nothing of repositories, backends or
// index files. Sealing is done through the small Sealer interface, which the
// repository's master key implements; pack imports no strata/repo package.
// Everything a decoder reads is untrusted: malformed input yields an error
// naming what is wrong, never a panic, and never an allocation beyond
// MaxBlobSize for a blob or MaxHeaderSize for a header.
//
// Words: blob (a data or tree blob, named by its ID), pack, header, entry
// (one blob's description in the header: Blob), sealed (encrypted and
// authenticated by a Sealer), plaintext, stored payload (what is sealed:
// the plaintext raw, zstd-compressed, or delta-compressed), delta blob,
// base (the blob whose plaintext a delta blob is compressed against).
package pack
