package dbexport

import (
	"bytes"
	"strconv"
	"testing"
)

// referenceClass is plainClass as first written: every value that starts
// like a number is parsed, whatever follows.
func referenceClass(v []byte) ValueClass {
	if len(v) == 0 {
		return ClassText
	}
	switch c := v[0]; {
	case c == '-' || (c >= '0' && c <= '9'):
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			if bytes.Equal(strconv.AppendInt(nil, n, 10), v) {
				return ClassInteger
			}
			return ClassText
		}
		if f, ok := parseReal(v); ok && bytes.Equal(AppendReal(nil, f), v) {
			return ClassReal
		}
	case c == 'I':
		if string(v) == "Infinity" {
			return ClassReal
		}
	case c == '\\':
		if isBlob(v) {
			return ClassBlob
		}
	}
	return ClassText
}

// Text that starts like a number but is not one (dates, phone numbers)
// is classed without parsing it, so without allocating: a failed parse
// allocated its error and a copy of the text, hundreds of MB per hourly
// backup of the bench-db database. The classes are those of parsing.
func TestPlainClassOfNumberLikeText(t *testing.T) {
	values := []string{
		"2024-01-02 10:00:00", "2024-01-02", "+1 555 0100", "555-0100", "12:30", "1,5", "3rd", "0x10", "1_000",
		"-", "--1", "1e", "1e5", "1.5e+10", "-0.0", "0.1", "1.0", "10", "-10", "007", "9223372036854775807",
		"9223372036854775808", "-9223372036854775809", "1.", ".5", "-Infinity", "Infinity", "NaN", "1e400",
		"5e-324", "1.0e-7", "-1.5", "12.50",
	}
	for _, v := range values {
		if got, want := plainClass([]byte(v)), referenceClass([]byte(v)); got != want {
			t.Errorf("plainClass(%q) = %v, parsing says %v", v, got, want)
		}
	}
	for _, v := range []string{"2024-01-02 10:00:00", "2024-01-02", "+1 555 0100", "555-0100 ext. 12", "10115", "-42", "K-2024-00012345"} {
		b := []byte(v)
		if n := testing.AllocsPerRun(100, func() { plainClass(b) }); n != 0 {
			t.Errorf("plainClass(%q) allocates %v times", v, n)
		}
	}
}

func FuzzPlainClass(f *testing.F) {
	for _, v := range []string{"2024-01-02", "1.5e+10", "-Infinity", "-", "12", "1e400"} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if got, want := plainClass(v), referenceClass(v); got != want {
			t.Errorf("plainClass(%q) = %v, parsing says %v", v, got, want)
		}
	})
}
