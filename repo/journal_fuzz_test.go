package repo

import (
	"bytes"
	"testing"
)

// FuzzDecodeJournalFile: the decoder of journal files (docs/design.md,
// "The journal") never panics, accepts only valid files, and what it
// accepts encodes and decodes again to the same records. Seeds: the
// journal files in testdata/fuzz/FuzzDecodeJournalFile and f.Add below.
func FuzzDecodeJournalFile(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2026-12-06T22:00:00Z","base":true,"records":[]}`))
	f.Add([]byte(`{"seq":7,"time":"2026-12-06T22:00:00Z","records":[{"op":"remove","kind":"snapshots","id":"0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}]}`))
	f.Add([]byte(`{"seq":2,"time":"2026-12-06T22:00:00Z","base":true,"records":[{"op":"remove","kind":"keys","id":"00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		jf, err := DecodeJournalFile(data)
		if err != nil {
			return
		}
		if err := jf.validate(); err != nil {
			t.Fatalf("DecodeJournalFile accepted an invalid file: %v", err)
		}
		again, err := EncodeJournalFile(jf)
		if err != nil {
			t.Fatalf("an accepted file does not encode: %v", err)
		}
		back, err := DecodeJournalFile(again)
		if err != nil {
			t.Fatalf("re-encoded journal file does not decode: %v", err)
		}
		third, _ := EncodeJournalFile(back)
		if !bytes.Equal(again, third) {
			t.Fatalf("round trip changed the file:\n%s\n%s", again, third)
		}
	})
}
