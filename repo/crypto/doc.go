// Package crypto holds strata's keys and the two primitives every repository
// file and blob goes through: XChaCha20-Poly1305 sealing with random 24-byte
// nonces, and keyed BLAKE3-256 blob IDs. It also wraps the master key with a
// password through Argon2id (key files, docs/design.md "Keys").
//
// Words: master key (Key: an encryption key and an ID key), key file, KDF
// parameters (KDFParams).
package crypto
