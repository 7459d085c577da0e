package pack_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
	"strata/repo/crypto"
)

// csvChunk returns size bytes of CSV-like rows (an order table export),
// deterministic for a seed: compressible, like the table data strata backs
// up.
func csvChunk(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	var buf bytes.Buffer
	buf.Grow(size + 128)
	for row := 0; buf.Len() < size; row++ {
		fmt.Fprintf(&buf, "%d,2024-%02d-%02d,%s,%s@example.com,%d.%02d,%s\n",
			100000+row, 1+rng.IntN(12), 1+rng.IntN(28),
			names[rng.IntN(len(names))], names[rng.IntN(len(names))],
			rng.IntN(10000), rng.IntN(100), []string{"paid", "open", "refunded"}[rng.IntN(3)])
	}
	return buf.Bytes()[:size]
}

// randomBytes returns n incompressible bytes, deterministic for a seed.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// testKey returns a fixed master key, so failures reproduce.
func testKey() *crypto.Key {
	k := &crypto.Key{}
	for i := range k.Enc {
		k.Enc[i] = byte(i)
		k.ID[i] = byte(0xff - i)
	}
	return k
}

// otherKey returns a second fixed key, for wrong-key tests.
func otherKey() *crypto.Key {
	k := testKey()
	k.Enc[0] ^= 1
	return k
}

// nullSealer "seals" by prefixing zero bytes and opens by stripping them. It
// authenticates nothing, which lets fuzzing reach the header decoder
// through ReadHeader.
type nullSealer struct{}

const nullOverhead = 16

func (nullSealer) Seal(dst, plain []byte) []byte {
	dst = append(dst, make([]byte, nullOverhead)...)
	return append(dst, plain...)
}

func (nullSealer) Open(dst, sealed []byte) ([]byte, error) {
	if len(sealed) < nullOverhead {
		return nil, errors.New("null sealer: too short")
	}
	return append(dst, sealed[nullOverhead:]...), nil
}

func (nullSealer) Overhead() int { return nullOverhead }

// testBlob is one blob to put in a test pack.
type testBlob struct {
	typ   pack.BlobType
	plain []byte
	base  []byte // the base's plaintext, for a delta attempt; nil for none
}

// builtPack is a pack file in memory with what went into it.
type builtPack struct {
	file   []byte
	blobs  []pack.Blob        // entries as the Writer recorded them
	plains map[pack.ID][]byte // plaintext of every blob and base, by ID
}

// buildPack encodes blobs with an Encoder and writes them into a pack.
func buildPack(t testing.TB, s pack.Sealer, ids func([]byte) pack.ID, blobs []testBlob) builtPack {
	t.Helper()
	enc, err := pack.NewEncoder(s, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := pack.NewWriter(&buf, s)
	p := builtPack{plains: make(map[pack.ID][]byte)}
	for _, tb := range blobs {
		sealed, c, err := enc.Encode(nil, tb.plain, tb.base)
		if err != nil {
			t.Fatal(err)
		}
		b := pack.Blob{Type: tb.typ, Compression: c, ID: ids(tb.plain), RawLength: uint32(len(tb.plain))}
		if c == pack.Delta {
			b.Base = ids(tb.base)
			p.plains[b.Base] = tb.base
		}
		p.plains[b.ID] = tb.plain
		if err := w.Add(b, sealed); err != nil {
			t.Fatal(err)
		}
	}
	size, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	p.file = buf.Bytes()
	if size != int64(len(p.file)) {
		t.Fatalf("Finish returned size %d, wrote %d bytes", size, len(p.file))
	}
	p.blobs = w.Blobs()
	return p
}

// loaderOf serves ranged reads of file and fails the test if a reader asks
// for bytes outside it.
func loaderOf(t testing.TB, file []byte) func(offset, length int64) ([]byte, error) {
	return func(offset, length int64) ([]byte, error) {
		if offset < 0 || length < 0 || offset+length > int64(len(file)) {
			t.Fatalf("load(%d, %d) outside a file of %d bytes", offset, length, len(file))
		}
		return file[offset : offset+length], nil
	}
}

// decodeBlobs decodes every blob of a pack file whose entries are blobs,
// taking bases from plains, and returns the first error.
func decodeBlobs(dec *pack.Decoder, file []byte, blobs []pack.Blob, plains map[pack.ID][]byte) (map[pack.ID][]byte, error) {
	out := make(map[pack.ID][]byte)
	for _, b := range blobs {
		end := int64(b.Offset) + int64(b.Length)
		if end > int64(len(file)) {
			return nil, fmt.Errorf("blob %v ends at %d, past the file's %d bytes", b, end, len(file))
		}
		var base []byte
		if b.Compression == pack.Delta {
			base = plains[b.Base]
		}
		plain, err := dec.Decode(nil, file[b.Offset:end], b, base)
		if err != nil {
			return nil, err
		}
		out[b.ID] = plain
	}
	return out, nil
}
