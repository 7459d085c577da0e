package dbexport

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// The canonical row encoding is PostgreSQL's COPY text format
// (docs/design.md, "Table exports"): fields separated by a tab, one row
// per line ending in "\n", NULL written as \N, and backslash escapes for
// backslash, newline, carriage return and tab inside a field. Binary
// values are written as PostgreSQL writes bytea: \x followed by hex
// (escaped, so the line holds \\x...).

// Null is the COPY text of SQL NULL.
const Null = `\N`

// AppendField appends v escaped for COPY text.
func AppendField(dst []byte, v []byte) []byte {
	// The runs between escapes are copied whole: appending byte by byte
	// was a sixth of a SQLite export's instructions.
	for {
		i := 0
		for i < len(v) && copyEscape[v[i]] == 0 {
			i++
		}
		dst = append(dst, v[:i]...)
		if i == len(v) {
			return dst
		}
		dst = append(dst, '\\', copyEscape[v[i]])
		v = v[i+1:]
	}
}

// copyEscape is, for each byte, the letter that follows the backslash
// of its escape in COPY text, or 0 when the byte stands for itself.
var copyEscape = [256]byte{'\\': '\\', '\n': 'n', '\r': 'r', '\t': 't'}

// AppendBytes appends a binary value in bytea hex form, escaped.
func AppendBytes(dst []byte, v []byte) []byte {
	dst = append(dst, '\\', '\\', 'x')
	return hex.AppendEncode(dst, v)
}

// SplitRow splits one line (without its "\n") into raw, still escaped
// fields.
func SplitRow(line []byte) [][]byte {
	return bytes.Split(line, []byte{'\t'})
}

// Unescape decodes one field. ok is false for NULL. A field of a typed
// row (RowEncodingTyped) that opens with the TEXT tag \T reads as its
// text, without the tag.
func Unescape(field []byte) (v []byte, ok bool, err error) {
	if string(field) == Null {
		return nil, false, nil
	}
	return unescape(bytes.TrimPrefix(field, []byte(textTag)))
}

// unescape undoes the backslash escapes of a field that is not NULL.
func unescape(field []byte) (v []byte, ok bool, err error) {
	if bytes.IndexByte(field, '\\') < 0 {
		return field, true, nil
	}
	out := make([]byte, 0, len(field))
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(field) {
			return nil, false, fmt.Errorf("field ends in a lone backslash")
		}
		switch field[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'v':
			out = append(out, '\v')
		case 'N':
			return nil, false, fmt.Errorf(`\N inside a field`)
		default:
			// COPY text allows octal and hex escapes; strata never writes
			// them and PostgreSQL never outputs them, so reject them.
			return nil, false, fmt.Errorf("unsupported escape \\%c", field[i])
		}
	}
	return out, true, nil
}

// DecodeBytes turns a bytea hex value (already unescaped: \x0102) back
// into bytes.
func DecodeBytes(v []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, []byte(`\x`)) || len(v)%2 != 0 {
		return nil, fmt.Errorf("binary value is not in \\x hex form")
	}
	out := make([]byte, (len(v)-2)/2)
	for i := range out {
		hi, ok1 := unhex(v[2+2*i])
		lo, ok2 := unhex(v[3+2*i])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("binary value has a bad hex digit")
		}
		out[i] = hi<<4 | lo
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// FirstKey returns the key fields (raw COPY text) of a row joined by tabs;
// key columns past the row's last field are left out. It finds the fields
// in place: a backup calls it for every row of the changed runs of a
// table, and splitting each row into a slice of fields made a fifth of an
// hourly backup's garbage.
func FirstKey(line []byte, keyCols []int) string {
	if len(keyCols) == 1 {
		f, _ := nthField(line, keyCols[0])
		return string(f)
	}
	var buf [128]byte
	key := buf[:0]
	n := 0
	for _, k := range keyCols {
		if f, ok := nthField(line, k); ok {
			if n > 0 {
				key = append(key, '\t')
			}
			key = append(key, f...)
			n++
		}
	}
	return string(key)
}

// nthField returns field k (from 0) of a row of COPY text, as SplitRow
// would cut it, and whether the row has that many fields.
func nthField(line []byte, k int) ([]byte, bool) {
	for ; k > 0; k-- {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			return nil, false
		}
		line = line[i+1:]
	}
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		line = line[:i]
	}
	return line, true
}

// CompareKeys orders two keys made by FirstKey: field by field, as numbers
// when both fields are integers, else as bytes. It only steers the choice
// of delta bases, so a collation that differs from the database's costs
// some storage, never correctness.
func CompareKeys(a, b string) int {
	fa, fb := strings.Split(a, "\t"), strings.Split(b, "\t")
	for i := 0; i < len(fa) && i < len(fb); i++ {
		if c := compareField(fa[i], fb[i]); c != 0 {
			return c
		}
	}
	return len(fa) - len(fb)
}

func compareField(a, b string) int {
	if a == b {
		return 0
	}
	if c, ok := compareShortestInts(a, b); ok {
		return c
	}
	ia, okA := new(big.Int).SetString(a, 10)
	ib, okB := new(big.Int).SetString(b, 10)
	if okA && okB {
		return ia.Cmp(ib)
	}
	return strings.Compare(a, b)
}

// compareShortestInts compares a and b as integers without parsing them
// when both are decimal integers in their shortest form (0, or an
// optional minus and a digit other than 0 first), as keys are: ok is
// false otherwise (007, +7, -0, text), and compareField parses them. A
// history or a seek compares a key with every row of a chunk, and
// parsing both into big.Ints was most of that time (docs/benchmarks.md,
// "Row history").
func compareShortestInts(a, b string) (c int, ok bool) {
	negA, okA := shortestInt(a)
	negB, okB := shortestInt(b)
	if !okA || !okB {
		return 0, false
	}
	switch {
	case negA != negB:
		if negA {
			return -1, true
		}
		return 1, true
	case len(a) != len(b):
		c = len(a) - len(b)
	default:
		c = strings.Compare(a, b)
	}
	if negA {
		c = -c
	}
	return max(-1, min(c, 1)), true
}

// shortestInt reports whether s is a decimal integer in its shortest
// form, and whether it is negative.
func shortestInt(s string) (neg, ok bool) {
	digits := strings.TrimPrefix(s, "-")
	neg = len(digits) < len(s)
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || neg) {
		return neg, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return neg, false
		}
	}
	return neg, true
}
