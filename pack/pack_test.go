package pack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
	"strata/repo/crypto"
)

// changeOneLine returns a copy of a CSV chunk with one row rewritten.
func changeOneLine(chunk []byte) []byte {
	out := bytes.Clone(chunk)
	at := bytes.IndexByte(out[len(out)/2:], '\n') + len(out)/2 + 1
	copy(out[at:], "424242,2025-06-30,zed,zed@example.com,1.00,disputed\n")
	return out
}

func TestRoundTrip(t *testing.T) {
	key := testKey()
	csv := csvChunk(1, 64<<10)
	tests := []struct {
		name  string
		blob  testBlob
		wantC pack.Compression
	}{
		{"csv compresses", testBlob{typ: pack.DataBlob, plain: csv}, pack.Zstd},
		{"random stays raw", testBlob{typ: pack.DataBlob, plain: randomBytes(1, 64<<10)}, pack.Raw},
		{"one byte stays raw", testBlob{typ: pack.DataBlob, plain: []byte{'x'}}, pack.Raw},
		{"empty stays raw", testBlob{typ: pack.TreeBlob, plain: []byte{}}, pack.Raw},
		{"tree json compresses", testBlob{typ: pack.TreeBlob, plain: bytes.Repeat([]byte(`{"name":"a","type":"file"},`), 100)}, pack.Zstd},
		{"changed line is delta", testBlob{typ: pack.DataBlob, plain: changeOneLine(csv), base: csv}, pack.Delta},
		{"unrelated base falls back to zstd", testBlob{typ: pack.DataBlob, plain: csv, base: randomBytes(2, 4096)}, pack.Zstd},
		{"random with random base stays raw", testBlob{typ: pack.DataBlob, plain: randomBytes(3, 4096), base: randomBytes(4, 4096)}, pack.Raw},
		{"empty base is ignored", testBlob{typ: pack.DataBlob, plain: csv, base: []byte{}}, pack.Zstd},
		{"large blob over zstd block size", testBlob{typ: pack.DataBlob, plain: csvChunk(5, 1<<20)}, pack.Zstd},
		{"large delta", testBlob{typ: pack.DataBlob, plain: changeOneLine(csvChunk(6, 1<<20)), base: csvChunk(6, 1<<20)}, pack.Delta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPack(t, key, key.BlobID, []testBlob{{typ: pack.DataBlob, plain: []byte("first blob")}, tt.blob})
			blobs, err := pack.ReadHeader(loaderOf(t, p.file), int64(len(p.file)), key)
			if err != nil {
				t.Fatal(err)
			}
			if len(blobs) != 2 || blobs[1] != p.blobs[1] || blobs[0] != p.blobs[0] {
				t.Fatalf("ReadHeader = %+v, Writer recorded %+v", blobs, p.blobs)
			}
			if got := blobs[1].Compression; got != tt.wantC {
				t.Errorf("compression = %v, want %v", got, tt.wantC)
			}
			dec, err := pack.NewDecoder(key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBlobs(dec, p.file, blobs, p.plains)
			if err != nil {
				t.Fatal(err)
			}
			for id, plain := range got {
				if !bytes.Equal(plain, p.plains[id]) {
					t.Errorf("blob %s: decoded plaintext differs", id.Short())
				}
			}
		})
	}
}

func TestDecodeAppendsToDst(t *testing.T) {
	key := testKey()
	for _, plain := range [][]byte{csvChunk(1, 10000), randomBytes(1, 1000)} {
		p := buildPack(t, key, key.BlobID, []testBlob{{typ: pack.DataBlob, plain: plain}})
		dec, err := pack.NewDecoder(key)
		if err != nil {
			t.Fatal(err)
		}
		b := p.blobs[0]
		got, err := dec.Decode([]byte("prefix"), p.file[b.Offset:b.Offset+b.Length], b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), plain...)) {
			t.Errorf("%v: Decode did not append the plaintext to dst", b.Compression)
		}
	}
}

func TestDeltaIsSmall(t *testing.T) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	base := csvChunk(7, 64<<10)
	plain := changeOneLine(base)
	plainZstd, c, err := enc.Encode(nil, plain, nil)
	if err != nil || c != pack.Zstd {
		t.Fatalf("Encode without base: %v, %v", c, err)
	}
	delta, c, err := enc.Encode(nil, plain, base)
	if err != nil || c != pack.Delta {
		t.Fatalf("Encode with base: %v, %v", c, err)
	}
	t.Logf("64 KiB CSV chunk with one changed line: zstd %d bytes, delta %d bytes (sealed)", len(plainZstd), len(delta))
	if len(delta)*10 >= len(plainZstd) {
		t.Errorf("delta blob of %d bytes is not under a tenth of plain zstd (%d bytes)", len(delta), len(plainZstd))
	}
}

// TestWriterToFile writes a pack to a temporary file, as the repository
// does, and reads it back through ranged reads of the file.
func TestWriterToFile(t *testing.T) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedFastest)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "pack"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pack.NewWriter(f, key)
	plains := map[pack.ID][]byte{}
	for i := range 20 {
		plain := csvChunk(uint64(i), 4096+i)
		sealed, c, err := enc.Encode(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := key.BlobID(plain)
		plains[id] = plain
		before := w.Size()
		if err := w.Add(pack.Blob{Type: pack.DataBlob, Compression: c, ID: id, RawLength: uint32(len(plain))}, sealed); err != nil {
			t.Fatal(err)
		}
		if w.Count() != i+1 || w.Size() != before+int64(len(sealed)) {
			t.Fatalf("after %d blobs: Count %d, Size %d", i+1, w.Count(), w.Size())
		}
	}
	size, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	load := func(offset, length int64) ([]byte, error) {
		buf := make([]byte, length)
		_, err := f.ReadAt(buf, offset)
		return buf, err
	}
	blobs, err := pack.ReadHeader(load, size, key)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		sealed, _ := load(int64(b.Offset), int64(b.Length))
		plain, err := dec.Decode(nil, sealed, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, plains[b.ID]) {
			t.Errorf("%v: plaintext differs", b)
		}
	}
}

// smallPack holds a raw, a zstd and a delta blob, for corruption tests.
func smallPack(t testing.TB, key *crypto.Key) builtPack {
	t.Helper()
	base := csvChunk(9, 600)
	p := buildPack(t, key, key.BlobID, []testBlob{
		{typ: pack.DataBlob, plain: randomBytes(9, 50)},
		{typ: pack.TreeBlob, plain: bytes.Repeat([]byte("tree "), 40)},
		{typ: pack.DataBlob, plain: base},
		{typ: pack.DataBlob, plain: changeOneLine(base), base: base},
	})
	want := []pack.Compression{pack.Raw, pack.Zstd, pack.Zstd, pack.Delta}
	for i, b := range p.blobs {
		if b.Compression != want[i] {
			t.Fatalf("small pack: blob %d is %v, want %v", i, b.Compression, want[i])
		}
	}
	return p
}

func TestEveryByteFlipIsDetected(t *testing.T) {
	key := testKey()
	p := smallPack(t, key)
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, mask := range []byte{0x01, 0x80, 0xff} {
		for i := range p.file {
			file := bytes.Clone(p.file)
			file[i] ^= mask
			blobs, err := pack.ReadHeader(loaderOf(t, file), int64(len(file)), key)
			if err != nil {
				continue
			}
			if _, err := decodeBlobs(dec, file, blobs, p.plains); err == nil {
				t.Errorf("byte %d of %d xor %#x: not detected", i, len(file), mask)
			}
		}
	}
}

func TestTruncatedPack(t *testing.T) {
	key := testKey()
	p := smallPack(t, key)
	for n := range len(p.file) {
		file := p.file[:n]
		_, err := pack.ReadHeader(loaderOf(t, file), int64(n), key)
		if !errors.Is(err, pack.ErrInvalidHeader) {
			t.Errorf("pack truncated to %d of %d bytes: err = %v, want ErrInvalidHeader", n, len(p.file), err)
		}
	}
}

func TestHeaderLength(t *testing.T) {
	key := testKey()
	p := smallPack(t, key)
	size := int64(len(p.file))
	tests := []struct {
		name    string
		length  uint32
		wantErr string
	}{
		{"all ones", 0xFFFFFFFF, "exceeds the"},
		{"zero", 0, "too short for a sealed header"},
		{"overhead only", crypto.Overhead, "too short for a sealed header"},
		{"one past the file", uint32(size - 3), "exceeds the"},
		{"whole file", uint32(size - 4), "ciphertext verification failed"},
		{"one byte short", binary.LittleEndian.Uint32(p.file[size-4:]) - 1, "ciphertext verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := bytes.Clone(p.file)
			binary.LittleEndian.PutUint32(file[size-4:], tt.length)
			_, err := pack.ReadHeader(loaderOf(t, file), size, key)
			if !errors.Is(err, pack.ErrInvalidHeader) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want ErrInvalidHeader containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHeaderLengthCap(t *testing.T) {
	// A pack of 20 MiB whose length field claims a 17 MiB header must be
	// refused before anything that large is loaded.
	size := int64(20 << 20)
	load := func(offset, length int64) ([]byte, error) {
		if length > 16<<10 {
			t.Fatalf("load(%d, %d): ReadHeader loaded more than the tail", offset, length)
		}
		buf := make([]byte, length)
		binary.LittleEndian.PutUint32(buf[length-4:], 17<<20)
		return buf, nil
	}
	_, err := pack.ReadHeader(load, size, testKey())
	if !errors.Is(err, pack.ErrInvalidHeader) || !strings.Contains(err.Error(), "maximum header size") {
		t.Errorf("err = %v, want the maximum header size refused", err)
	}
}

func TestReadHeaderLoads(t *testing.T) {
	key := testKey()
	var blobs []testBlob
	for i := range 500 { // 500 entries of 42 bytes: a header over 16 KiB
		blobs = append(blobs, testBlob{typ: pack.DataBlob, plain: []byte{byte(i), byte(i >> 8)}})
	}
	tests := []struct {
		name      string
		blobs     []testBlob
		wantLoads int
	}{
		{"small header in the tail", blobs[:3], 1},
		{"large header loaded again", blobs, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPack(t, key, key.BlobID, tt.blobs)
			loads := 0
			load := func(offset, length int64) ([]byte, error) {
				loads++
				return loaderOf(t, p.file)(offset, length)
			}
			got, err := pack.ReadHeader(load, int64(len(p.file)), key)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.blobs) || loads != tt.wantLoads {
				t.Errorf("got %d blobs in %d loads, want %d in %d", len(got), loads, len(tt.blobs), tt.wantLoads)
			}
		})
	}
}

func TestReadHeaderLoadErrors(t *testing.T) {
	key := testKey()
	p := smallPack(t, key)
	size := int64(len(p.file))
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name string
		load func(offset, length int64) ([]byte, error)
		want error
	}{
		{"error", func(int64, int64) ([]byte, error) { return nil, errDisk }, errDisk},
		{"short read", func(offset, length int64) ([]byte, error) { return p.file[offset : offset+length-1], nil }, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pack.ReadHeader(tt.load, size, key)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	key, other := testKey(), otherKey()
	p := smallPack(t, key)
	_, err := pack.ReadHeader(loaderOf(t, p.file), int64(len(p.file)), other)
	if !errors.Is(err, pack.ErrInvalidHeader) || !errors.Is(err, crypto.ErrAuth) {
		t.Errorf("ReadHeader with another key: err = %v, want ErrInvalidHeader and crypto.ErrAuth", err)
	}
	dec, err := pack.NewDecoder(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.blobs {
		if _, err := decodeBlobs(dec, p.file, []pack.Blob{b}, p.plains); !errors.Is(err, crypto.ErrAuth) {
			t.Errorf("%v (%v) with another key: err = %v, want crypto.ErrAuth", b, b.Compression, err)
		}
	}
}
