package backend_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"strata/repo/backend"
)

// TestFileReader: the content is the whole file, from its first byte,
// again after each Rewind, wherever the file was positioned.
func TestFileReader(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "pack"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := bytes.Repeat([]byte("pack bytes "), 1000)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	rd, err := backend.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Length() != int64(len(data)) {
		t.Fatalf("Length = %d, want %d", rd.Length(), len(data))
	}
	for i := range 3 {
		if i > 0 {
			if err := rd.Rewind(); err != nil {
				t.Fatal(err)
			}
		}
		got, err := io.ReadAll(rd)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %d: %d bytes (%v), want the %d of the file", i, len(got), err, len(data))
		}
	}
}

// short ends early; failLast returns its error with its last bytes.
type short struct{ *backend.ByteReader }

func (short) Length() int64 { return 100 }

type failLast struct{ *backend.ByteReader }

func (r failLast) Read(p []byte) (int, error) {
	n, err := r.ByteReader.Read(p)
	if err == nil {
		err = errors.New("disk error")
	}
	return n, err
}

func TestReadContent(t *testing.T) {
	data := []byte("0123456789")
	got, err := backend.ReadContent(backend.NewByteReader(data))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("ReadContent: %q, %v", got, err)
	}
	if _, err := backend.ReadContent(short{backend.NewByteReader(data)}); !errors.Is(err, backend.ErrShortContent) {
		t.Errorf("ReadContent of a short reader: %v, want ErrShortContent", err)
	}
	// io.CopyN would drop an error that comes with the last bytes.
	if _, err := backend.ReadContent(failLast{backend.NewByteReader(data)}); err == nil || err.Error() != "disk error" {
		t.Errorf("ReadContent of a reader failing with its last bytes: %v, want its error", err)
	}
}
