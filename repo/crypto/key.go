package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"
	"golang.org/x/crypto/chacha20poly1305"

	"strata/pack"
)

// KeySize is the size of each half of the master key.
const KeySize = 32

// Layout of one sealed value (docs/design.md, "Encryption"):
//
//	Nonce(24 bytes, random) || Ciphertext || Tag(16 bytes, Poly1305)
const (
	NonceSize = chacha20poly1305.NonceSizeX
	TagSize   = chacha20poly1305.Overhead
	Overhead  = NonceSize + TagSize
)

// ErrAuth reports a ciphertext that failed authentication: a changed,
// truncated or foreign byte, or the wrong key.
var ErrAuth = errors.New("ciphertext verification failed (data damaged or wrong key)")

// Key is the repository's master key: Enc encrypts, ID keys the blob hash.
// The two are independent random values so an ID never reveals content.
type Key struct {
	Enc [KeySize]byte `json:"enc"`
	ID  [KeySize]byte `json:"id"`

	// hashers recycles keyed hashers for BlobID: a new one is a few
	// KiB of fresh memory, and a check or backup hashes every blob.
	hashers sync.Pool
}

// NewRandomKey returns a fresh master key from the system's random source.
func NewRandomKey() (*Key, error) {
	k := &Key{}
	if _, err := rand.Read(k.Enc[:]); err != nil {
		return nil, fmt.Errorf("reading random key: %w", err)
	}
	if _, err := rand.Read(k.ID[:]); err != nil {
		return nil, fmt.Errorf("reading random key: %w", err)
	}
	return k, nil
}

// Overhead is the number of bytes Seal adds to a plaintext.
func (k *Key) Overhead() int { return Overhead }

// Seal appends nonce || ciphertext || tag of plain to dst.
func (k *Key) Seal(dst, plain []byte) []byte {
	aead, err := chacha20poly1305.NewX(k.Enc[:])
	if err != nil {
		panic(err) // key size is fixed by the type; cannot happen
	}
	var nonce [NonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic(fmt.Sprintf("system random source failed: %v", err))
	}
	dst = append(dst, nonce[:]...)
	return aead.Seal(dst, nonce[:], plain, nil)
}

// Open verifies sealed and appends its plaintext to dst.
func (k *Key) Open(dst, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes is shorter than nonce and tag", ErrAuth, len(sealed))
	}
	aead, err := chacha20poly1305.NewX(k.Enc[:])
	if err != nil {
		panic(err)
	}
	out, err := aead.Open(dst, sealed[:NonceSize], sealed[NonceSize:], nil)
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}

// BlobID returns the keyed BLAKE3-256 of a blob's plaintext.
func (k *Key) BlobID(plain []byte) pack.ID {
	h, _ := k.hashers.Get().(*blake3.Hasher)
	if h == nil {
		h = k.Hasher()
	} else {
		h.Reset() // keeps the key
	}
	_, _ = h.Write(plain)
	var id pack.ID
	h.Sum(id[:0])
	k.hashers.Put(h)
	return id
}

// Hasher returns a keyed BLAKE3 hash for streaming blob IDs.
func (k *Key) Hasher() *blake3.Hasher {
	h, err := blake3.NewKeyed(k.ID[:])
	if err != nil {
		panic(err)
	}
	return h
}

// FileID returns the unkeyed BLAKE3-256 of a repository file's bytes, which
// is that file's name: storage integrity is checkable without the password.
func FileID(data []byte) pack.ID {
	return pack.ID(blake3.Sum256(data))
}

var _ pack.Sealer = (*Key)(nil)
