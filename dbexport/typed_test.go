package dbexport

import (
	"bytes"
	"math"
	"testing"
)

func appendTyped(dst []byte, v TypedValue) []byte {
	switch v.Class {
	case ClassNull:
		return append(dst, Null...)
	case ClassInteger:
		return AppendInteger(dst, v.Int)
	case ClassReal:
		return AppendReal(dst, v.Real)
	case ClassBlob:
		return AppendBlob(dst, v.Bytes)
	}
	return AppendText(dst, v.Bytes)
}

func sameTyped(a, b TypedValue) bool {
	return a.Class == b.Class && a.Int == b.Int && math.Float64bits(a.Real) == math.Float64bits(b.Real) &&
		bytes.Equal(a.Bytes, b.Bytes) && (a.Bytes == nil) == (b.Bytes == nil)
}

func TestTypedFields(t *testing.T) {
	text := func(s string) TypedValue { return TypedValue{Class: ClassText, Bytes: []byte(s)} }
	tests := []struct {
		v    TypedValue
		want string
	}{
		{TypedValue{Class: ClassNull}, `\N`},
		{TypedValue{Class: ClassInteger, Int: 3}, `3`},
		{TypedValue{Class: ClassInteger, Int: math.MinInt64}, `-9223372036854775808`},
		{TypedValue{Class: ClassInteger, Int: math.MaxInt64}, `9223372036854775807`},
		{TypedValue{Class: ClassReal, Real: 3}, `3.0`},
		{TypedValue{Class: ClassReal, Real: math.Copysign(0, -1)}, `-0.0`},
		{TypedValue{Class: ClassReal, Real: 1e308}, `1e+308`},
		{TypedValue{Class: ClassReal, Real: 0.1}, `0.1`},
		{TypedValue{Class: ClassReal, Real: 5e-324}, `5e-324`},
		{TypedValue{Class: ClassReal, Real: math.Inf(1)}, `Infinity`},
		{TypedValue{Class: ClassReal, Real: math.Inf(-1)}, `-Infinity`},
		{TypedValue{Class: ClassBlob, Bytes: []byte{}}, `\\x`},
		{TypedValue{Class: ClassBlob, Bytes: []byte{0, 0xff, '\n'}}, `\\x00ff0a`},
		{text(""), ``},
		{text("abc"), `abc`},
		{text("3"), `\T3`},
		{text("-0"), `-0`},
		{text("007"), `007`},
		{text("3.0"), `\T3.0`},
		{text("1e+308"), `\T1e+308`},
		{text("1e308"), `1e308`},
		{text("Infinity"), `\TInfinity`},
		{text("-Infinity"), `\T-Infinity`},
		{text("NaN"), `NaN`},
		{text("inf"), `inf`},
		{text(`\x`), `\T\\x`},
		{text(`\x0a`), `\T\\x0a`},
		{text(`\x0A`), `\\x0A`},
		{text(`\N`), `\\N`},
		{text("a\tb\nc"), `a\tb\nc`},
		{text("99999999999999999999"), `99999999999999999999`},
	}
	for _, tt := range tests {
		got := appendTyped(nil, tt.v)
		if string(got) != tt.want {
			t.Errorf("%s %q: wrote %q, want %q", tt.v.Class, tt.v.Bytes, got, tt.want)
			continue
		}
		back, err := DecodeTyped(got)
		if err != nil || !sameTyped(back, tt.v) {
			t.Errorf("%q read back as %+v (%v), want %+v", got, back, err, tt.v)
		}
		// Readers of plain COPY text see the value without the tag.
		if tt.v.Class == ClassText {
			if v, ok, err := Unescape(got); err != nil || !ok || string(v) != string(tt.v.Bytes) {
				t.Errorf("Unescape(%q) = %q, %v, %v", got, v, ok, err)
			}
		}
	}
	for _, bad := range []string{`\q`, `a\`, `\T\N`, `\Ta\Nb`} {
		if v, err := DecodeTyped([]byte(bad)); err == nil {
			t.Errorf("DecodeTyped(%q) = %+v, want an error", bad, v)
		}
	}
}

func TestRowEncodingOf(t *testing.T) {
	for enc, want := range map[int]int{0: RowEncodingCopy, 1: RowEncodingCopy, 2: RowEncodingTyped} {
		if got, err := (&Table{RowEncoding: enc}).RowEncodingOf(); err != nil || got != want {
			t.Errorf("row_encoding %d: %d, %v", enc, got, err)
		}
	}
	if _, err := (&Table{Name: "t", RowEncoding: 3}).RowEncodingOf(); err == nil {
		t.Error("row_encoding 3 was accepted")
	}
}

// FuzzDecodeTyped: any field decodes without a panic, and what decodes
// writes back to a field that decodes to the same value.
func FuzzDecodeTyped(f *testing.F) {
	for _, s := range []string{`\N`, `3`, `-0.0`, `1e+308`, `Infinity`, `\\x00ff`, `\\x`, `\T3`, `\T\\x0a`, `a\tb`, `007`, `\Tabc`, `-9223372036854775808`, `9223372036854775808`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, field []byte) {
		v, err := DecodeTyped(field)
		if err != nil {
			return
		}
		again := appendTyped(nil, v)
		back, err := DecodeTyped(again)
		if err != nil || !sameTyped(back, v) {
			t.Fatalf("%q decoded to %+v, written as %q, read back as %+v (%v)", field, v, again, back, err)
		}
		// The writer's form is canonical: it writes itself again.
		if again2 := appendTyped(nil, back); !bytes.Equal(again2, again) {
			t.Fatalf("%q written as %q, then as %q", field, again, again2)
		}
	})
}
