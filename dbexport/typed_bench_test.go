package dbexport

import "testing"

// customerText are TEXT values as the customer database of `make
// bench-db` (internal/customerdb) holds them: names, addresses, e-mail,
// phone, postal code, dates and timestamps, codes, notes.
var customerText = []string{
	"Lena", "Schmidt", "lena.schmidt4711@example.de", "+49 160 1234567", "Schmidt GmbH",
	"Hauptstraße 12", "10115", "Berlin", "DE", "1984-03-21", "active", "cus_A1b2C3d4E5f6G7",
	"visa", "4242", "Prefers e-mail.\tCalled twice about the invoice.", "de",
	"2024-05-01 10:15:00", "2025-06-01 23:59:59", "K-2024-00012345", "2025-07-01", "monthly",
}

// BenchmarkAppendText measures writing TEXT fields of typed COPY text
// (docs/design.md, "Typed values"): the class check and escaping of each
// value, per row of customerText.
func BenchmarkAppendText(b *testing.B) {
	values := make([][]byte, len(customerText))
	size := 0
	for i, v := range customerText {
		values[i] = []byte(v)
		size += len(v)
	}
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, v := range values {
			buf = AppendText(buf, v)
			buf = append(buf, '\t')
		}
	}
}

// BenchmarkAppendReal measures writing REAL fields (prices).
func BenchmarkAppendReal(b *testing.B) {
	values := []float64{19.99, 0.5, 1250, 4.95, 129.0, 1e-7, 3.14159}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, v := range values {
			buf = AppendReal(buf, v)
		}
	}
}
