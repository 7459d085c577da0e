package dbexport

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
)

func TestFieldRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "abc", "abc"},
		{"empty", "", ""},
		{"specials", "a\tb\nc\\d\re", `a\tb\nc\\d\re`},
		{"looks like null", `\N`, `\\N`},
		{"unicode", "Grüße 🙂", "Grüße 🙂"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendField(nil, []byte(tt.in))
			if string(got) != tt.want {
				t.Fatalf("AppendField = %q, want %q", got, tt.want)
			}
			back, ok, err := Unescape(got)
			if err != nil || !ok || string(back) != tt.in {
				t.Fatalf("Unescape = %q, %v, %v", back, ok, err)
			}
		})
	}
	if _, ok, err := Unescape([]byte(Null)); ok || err != nil {
		t.Error(`\N is not NULL`)
	}
	bin := []byte{0, 1, 0xfe, '\\', '\n'}
	f := AppendBytes(nil, bin)
	v, _, _ := Unescape(f)
	got, err := DecodeBytes(v)
	if err != nil || !bytes.Equal(got, bin) {
		t.Errorf("bytes round trip: %x, %v", got, err)
	}
}

func TestCompareKeys(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"9", "10", -1},
		{"10", "10", 0},
		{"-5", "3", -1},
		{"b", "a", 1},
		{"1\tb", "1\ta", 1},
		{"2\ta", "10\ta", -1},
		{"99999999999999999999999", "100000000000000000000000", -1},
	}
	for _, tt := range tests {
		if got := CompareKeys(tt.a, tt.b); (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("CompareKeys(%q, %q) = %d, want sign of %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestCompareFieldShortestInts: comparing integers in their shortest form
// without parsing them orders every pair as big.Int does, and leaves
// other spellings (007, +7, -0, text) to the parsing comparison.
func TestCompareFieldShortestInts(t *testing.T) {
	values := []string{"0", "1", "-1", "9", "10", "-10", "-9", "99", "100", "123", "124", "-123", "-124",
		"99999999999999999999999", "100000000000000000000000", "-100000000000000000000000",
		"007", "+7", "7", "-0", "00", "-", "", "1a", "a", "b", "\\N", "1.5"}
	for _, a := range values {
		for _, b := range values {
			want := strings.Compare(a, b)
			ia, okA := new(big.Int).SetString(a, 10)
			ib, okB := new(big.Int).SetString(b, 10)
			if okA && okB {
				want = ia.Cmp(ib)
			}
			if a == b {
				want = 0
			}
			if got := compareField(a, b); got != want {
				t.Errorf("compareField(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestParseDSNHidesPassword(t *testing.T) {
	tests := []struct{ in, engine, str string }{
		{"sqlite:///var/app.db", EngineSQLite, "sqlite:///var/app.db"},
		{"sqlite:rel.db", EngineSQLite, "sqlite://rel.db"},
		{"postgres://u:s3cret@db:5433/app?sslmode=require&password=x", EnginePostgres, "postgres://u@db:5433/app?sslmode=require"},
		{"mysql://root:pw@127.0.0.1/shop", EngineMySQL, "mysql://root@127.0.0.1:3306/shop"},
	}
	for _, tt := range tests {
		d, err := ParseDSN(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if d.Engine != tt.engine || d.String() != tt.str {
			t.Errorf("ParseDSN(%q) = %s %q, want %s %q", tt.in, d.Engine, d.String(), tt.engine, tt.str)
		}
	}
	for _, bad := range []string{"oracle://x/y", "postgres://u:secret@host/"} {
		if _, err := ParseDSN(bad); err == nil || bytes.Contains([]byte(err.Error()), []byte("secret")) {
			t.Errorf("ParseDSN(%q) = %v", bad, err)
		}
	}
}

func FuzzUnescape(f *testing.F) {
	f.Add([]byte(`a\tb\\c\N`))
	f.Add([]byte(`\\x00ff`))
	f.Fuzz(func(t *testing.T, field []byte) {
		v, ok, err := Unescape(field)
		if err != nil || !ok {
			return
		}
		// What decodes must encode back to a field that decodes the same.
		again, ok2, err := Unescape(AppendField(nil, v))
		if err != nil || !ok2 || !bytes.Equal(again, v) {
			t.Fatalf("round trip of %q: %q, %v, %v", field, again, ok2, err)
		}
		_ = FirstKey(field, []int{0, 1})
		_, _ = DecodeBytes(v)
	})
}

// referenceField is AppendField as first written, byte by byte.
func referenceField(dst, v []byte) []byte {
	for _, c := range v {
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendField copies the runs between escapes whole; its bytes are
// those of escaping byte by byte, for every byte value and position.
func TestAppendFieldSameBytes(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := []string{"", "plain", `\`, "\t", "a\tb\nc\rd\\e", "\n\n", "end\\", "\\start", string(all), "Müller\t12"}
	// The escaped bytes, their neighbours, 0 and high bytes at every
	// position of values up to 24 bytes long.
	for n := 1; n <= 24; n++ {
		for p := 0; p < n; p++ {
			for _, c := range []byte{'\\', '\n', '\r', '\t', 0, 0x08, 0x0b, 0x0c, 0x0e, '[', ']', 0x7f, 0x80, 0xdc, 0xff} {
				v := bytes.Repeat([]byte{'a'}, n)
				v[p] = c
				values = append(values, string(v))
			}
		}
	}
	for _, v := range values {
		if got, want := AppendField([]byte("x"), []byte(v)), referenceField([]byte("x"), []byte(v)); !bytes.Equal(got, want) {
			t.Errorf("AppendField(%q) = %q, want %q", v, got, want)
		}
	}
}

func FuzzAppendField(f *testing.F) {
	f.Add([]byte("a\tb\\c"), []byte("x"))
	f.Add([]byte("0123456789\nabcdef\x00\r"), []byte(""))
	f.Fuzz(func(t *testing.T, v, dst []byte) {
		want := referenceField(bytes.Clone(dst), v)
		if got := AppendField(bytes.Clone(dst), v); !bytes.Equal(got, want) {
			t.Fatalf("AppendField(%q, %q) = %q, want %q", dst, v, got, want)
		}
	})
}

// FirstKey finds the key fields in place, as splitting the row would cut
// them, with one allocation (the key string): it runs for every row of a
// backup's changed runs, and it allocated a slice of every field of each.
func TestFirstKeyInPlace(t *testing.T) {
	split := func(line []byte, keyCols []int) string {
		fields := SplitRow(line)
		var parts []string
		for _, k := range keyCols {
			if k < len(fields) {
				parts = append(parts, string(fields[k]))
			}
		}
		return strings.Join(parts, "\t")
	}
	rows := []string{"", "1", "1\t", "\t", "42\tAda\tada@example.com\t\\N\t2024-01-02", "a\\tb\tc", "7\t\t\t9"}
	keys := [][]int{{0}, {1}, {4}, {9}, {0, 1}, {2, 0}, {1, 9, 3}, {3, 3}}
	for _, r := range rows {
		for _, k := range keys {
			if got, want := FirstKey([]byte(r), k), split([]byte(r), k); got != want {
				t.Errorf("FirstKey(%q, %v) = %q, want %q", r, k, got, want)
			}
		}
	}
	line := []byte("1234567\t2024-01-02 10:11:12\tAda Lovelace\tada@example.com\t\\N")
	for _, k := range [][]int{{0}, {0, 2}} {
		if n := testing.AllocsPerRun(100, func() { _ = FirstKey(line, k) }); n > 1 {
			t.Errorf("FirstKey with key columns %v: %.0f allocations a row, want 1", k, n)
		}
	}
}
