package pack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"strata/pack"
)

func id(b byte) pack.ID {
	var id pack.ID
	for i := range id {
		id[i] = b
	}
	return id
}

// sampleBlobs are valid entries of all kinds, offsets filled in.
func sampleBlobs() []pack.Blob {
	return []pack.Blob{
		{Type: pack.DataBlob, Compression: pack.Raw, ID: id(1), Offset: 0, Length: 140, RawLength: 100},
		{Type: pack.TreeBlob, Compression: pack.Zstd, ID: id(2), Offset: 140, Length: 90, RawLength: 1000},
		{Type: pack.DataBlob, Compression: pack.Delta, ID: id(3), Base: id(1), Offset: 230, Length: 60, RawLength: 100},
	}
}

const sampleHeaderOffset = 290

func TestHeaderRoundTrip(t *testing.T) {
	want := sampleBlobs()
	plain := pack.EncodeHeader(want)
	if wantLen := 1 + 42 + 42 + 74; len(plain) != wantLen {
		t.Errorf("header is %d bytes, want %d", len(plain), wantLen)
	}
	got, err := pack.DecodeHeader(plain, sampleHeaderOffset)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestHeaderBytes pins the byte layout of docs/design.md, "Packs".
func TestHeaderBytes(t *testing.T) {
	plain := pack.EncodeHeader(sampleBlobs()[2:])
	want := []byte{1, 0, 2, 60, 0, 0, 0, 100, 0, 0, 0}
	want = append(want, bytes.Repeat([]byte{3}, 32)...)
	want = append(want, bytes.Repeat([]byte{1}, 32)...)
	if !bytes.Equal(plain, want) {
		t.Errorf("EncodeHeader = %x\nwant            %x", plain, want)
	}
}

func TestDecodeHeaderErrors(t *testing.T) {
	valid := pack.EncodeHeader(sampleBlobs())
	const first, second, third = 1, 1 + 42, 1 + 42 + 42 // entry starts
	with := func(edit func(h []byte) []byte) []byte { return edit(bytes.Clone(valid)) }
	set := func(at int, v ...byte) []byte { return with(func(h []byte) []byte { copy(h[at:], v); return h }) }
	setUint32 := func(at int, v uint32) []byte {
		return with(func(h []byte) []byte { binary.LittleEndian.PutUint32(h[at:], v); return h })
	}
	tests := []struct {
		name   string
		plain  []byte
		offset int64
		want   string
	}{
		{"empty", nil, 0, "empty header"},
		{"version only", []byte{1}, 0, "no entries"},
		{"unknown version", set(0, 2), sampleHeaderOffset, "unknown version 2"},
		{"truncated entry", valid[:second+41], sampleHeaderOffset, "entry 1: truncated"},
		{"truncated delta entry", valid[:len(valid)-1], sampleHeaderOffset, "entry 2: truncated"},
		{"unknown type", set(second, 2), sampleHeaderOffset, "entry 1: unknown blob type 2"},
		{"unknown compression", set(third+1, 7), sampleHeaderOffset, "entry 2: unknown compression 7"},
		{"null ID", set(first+10, make([]byte, 32)...), sampleHeaderOffset, "entry 0: null blob ID"},
		{"raw length over max", setUint32(second+6, pack.MaxBlobSize+1), sampleHeaderOffset, "exceeds the maximum blob size"},
		{"null base", set(third+42, make([]byte, 32)...), sampleHeaderOffset, "entry 2: delta blob 03030303: null base ID"},
		{"own base", set(third+42, bytes.Repeat([]byte{3}, 32)...), sampleHeaderOffset, "is its own base"},
		{"duplicate ID", set(second+10, bytes.Repeat([]byte{1}, 32)...), sampleHeaderOffset, "entry 1: blob 0101"},
		{"blobs end before header", valid, sampleHeaderOffset + 1, "blobs end at offset 290 but the header starts at offset 291"},
		{"blob runs into header", valid, sampleHeaderOffset - 1, "entry 2: blob at offset 230 with length 60 runs past"},
		{"length sum overflows", setUint32(second+2, math.MaxUint32), math.MaxUint32, "entry 1: blob at offset 140 with length 4294967295 runs past"},
		{"negative offset", valid, -1, "header offset -1"},
		{"offset past 4 GiB", valid, math.MaxUint32 + 1, "header offset 4294967296"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blobs, err := pack.DecodeHeader(tt.plain, tt.offset)
			if err == nil {
				t.Fatalf("no error; got %d entries", len(blobs))
			}
			if !errors.Is(err, pack.ErrInvalidHeader) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant ErrInvalidHeader containing %q", err, tt.want)
			}
		})
	}
}

func TestBlobTypeText(t *testing.T) {
	tests := []struct {
		typ  pack.BlobType
		text string
	}{
		{pack.DataBlob, "data"},
		{pack.TreeBlob, "tree"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := tt.typ.MarshalText()
			if err != nil || string(got) != tt.text || tt.typ.String() != tt.text {
				t.Errorf("MarshalText = %q, %v; String = %q; want %q", got, err, tt.typ.String(), tt.text)
			}
			var back pack.BlobType
			if err := back.UnmarshalText(got); err != nil || back != tt.typ {
				t.Errorf("UnmarshalText(%q) = %v, %v", got, back, err)
			}
		})
	}
	var typ pack.BlobType
	if err := typ.UnmarshalText([]byte("blob")); err == nil {
		t.Error(`UnmarshalText("blob") succeeded`)
	}
	if _, err := pack.BlobType(2).MarshalText(); err == nil {
		t.Error("MarshalText of BlobType(2) succeeded")
	}
}

func TestCompressionText(t *testing.T) {
	for _, c := range []pack.Compression{pack.Raw, pack.Zstd, pack.Delta} {
		t.Run(c.String(), func(t *testing.T) {
			text, err := c.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var back pack.Compression
			if err := back.UnmarshalText(text); err != nil || back != c {
				t.Errorf("UnmarshalText(%q) = %v, %v", text, back, err)
			}
		})
	}
	if got := pack.Compression(7).String(); got != "Compression(7)" {
		t.Errorf("String of an unknown compression = %q", got)
	}
}
