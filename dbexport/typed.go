package dbexport

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Row encodings: how a table's rows are written (Table.RowEncoding). A
// snapshot written before row encodings were numbered has none, which
// is RowEncodingCopy.
const (
	// RowEncodingCopy is PostgreSQL's COPY text (docs/design.md,
	// "Canonical row encoding"): a field's type comes from its column.
	RowEncodingCopy = 1
	// RowEncodingTyped is COPY text whose every field also says its own
	// storage class (docs/design.md, "Typed values"): SQLite, whose
	// values need not have their column's type.
	RowEncodingTyped = 2
)

// RowEncodingOf is the encoding of t's rows: RowEncodingCopy when the
// table records none (snapshots older than the field). It is an error,
// naming the table, when the snapshot was written by a newer strata in an
// encoding this one cannot read: better no restore than a wrong one.
func (t *Table) RowEncodingOf() (int, error) {
	switch t.RowEncoding {
	case 0, RowEncodingCopy:
		return RowEncodingCopy, nil
	case RowEncodingTyped:
		return RowEncodingTyped, nil
	}
	return 0, fmt.Errorf("table %s: row encoding %d is unknown to this version of strata (it reads 1 and 2): use a newer strata", t.QualifiedName(), t.RowEncoding)
}

// ValueClass is a value's storage class in the typed row encoding: the
// five of SQLite (https://sqlite.org/datatype3.html).
type ValueClass uint8

// Storage classes.
const (
	ClassNull ValueClass = iota
	ClassInteger
	ClassReal
	ClassText
	ClassBlob
)

func (c ValueClass) String() string {
	return [...]string{"null", "integer", "real", "text", "blob"}[c]
}

// TypedValue is one decoded field of a typed row. Bytes holds a TEXT or
// BLOB value (never nil for those, so an empty BLOB is not NULL).
type TypedValue struct {
	Class ValueClass
	Int   int64
	Real  float64
	Bytes []byte
}

// textTag opens a TEXT field that would otherwise read as an integer, a
// real or a blob. COPY text has no escape \T, so a v1 reader refuses it
// rather than reading it as something else.
const textTag = `\T`

// The typed row encoding (docs/design.md, "Typed values"). A field is
// read by the first rule that matches:
//
//	\N                      NULL
//	\T then COPY text       TEXT (the tag is written only when needed)
//	canonical integer       INTEGER: strconv.FormatInt form (-?[1-9][0-9]* or 0)
//	canonical real          REAL: AppendReal form (1.5, 3.0, 1e+308, Infinity)
//	\\x and lowercase hex   BLOB, even count of digits (\\x alone: empty)
//	anything else           TEXT
//
// "Canonical" is checked by writing the parsed value again and comparing:
// "007", "+1", "1e308" and "inf" are TEXT. The writers below produce
// exactly these forms, so a row's bytes depend on its values alone.

// AppendInteger appends an INTEGER field.
func AppendInteger(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// AppendReal appends a REAL field: the shortest digits that read back as
// f (strconv 'g'), with ".0" added when they would read as an integer,
// and Infinity, -Infinity for the infinities. NaN is written as the text
// NaN and reads back as TEXT: SQLite stores no NaN (it binds NULL).
func AppendReal(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	if bytes.IndexAny(dst[start:], ".e") < 0 {
		dst = append(dst, '.', '0')
	}
	return dst
}

// AppendText appends a TEXT field, tagged when its plain reading is
// another class.
func AppendText(dst, v []byte) []byte {
	if plainClass(v) != ClassText {
		dst = append(dst, textTag...)
	}
	return AppendField(dst, v)
}

// AppendBlobText is a BLOB's value as its field holds it once
// unescaped: \x and lowercase hex.
func AppendBlobText(b []byte) []byte {
	const hexdigits = "0123456789abcdef"
	v := make([]byte, 0, 2+2*len(b))
	v = append(v, '\\', 'x')
	for _, c := range b {
		v = append(v, hexdigits[c>>4], hexdigits[c&15])
	}
	return v
}

// AppendBlob appends a BLOB field (as AppendBytes: \\x and hex).
func AppendBlob(dst, v []byte) []byte { return AppendBytes(dst, v) }

// DecodeTyped reads one field of a typed row.
func DecodeTyped(field []byte) (TypedValue, error) {
	if string(field) == Null {
		return TypedValue{Class: ClassNull}, nil
	}
	if bytes.HasPrefix(field, []byte(textTag)) {
		v, _, err := unescape(field[len(textTag):])
		if err != nil {
			return TypedValue{}, err
		}
		return TypedValue{Class: ClassText, Bytes: nonNil(v)}, nil
	}
	v, _, err := Unescape(field)
	if err != nil {
		return TypedValue{}, err
	}
	tv := TypedValue{Class: plainClass(v)}
	switch tv.Class {
	case ClassInteger:
		tv.Int, _ = strconv.ParseInt(string(v), 10, 64)
	case ClassReal:
		tv.Real, _ = parseReal(v)
	case ClassBlob:
		tv.Bytes, _ = DecodeBytes(v)
	default:
		tv.Bytes = nonNil(v)
	}
	return tv, nil
}

// UntagText returns a typed field as plain COPY text: without the TEXT
// tag, which only a typed reader knows.
func UntagText(field []byte) []byte {
	return bytes.TrimPrefix(field, []byte(textTag))
}

// plainClass is the class an untagged, unescaped value reads as.
func plainClass(v []byte) ValueClass {
	if len(v) == 0 {
		return ClassText
	}
	switch c := v[0]; {
	case c == '-' || (c >= '0' && c <= '9'):
		// A value is an INTEGER or a REAL only in the exact form the
		// writers give it, so the form is checked before anything is
		// parsed: a failed parse allocates its error and a copy of the
		// text, and dates, phone numbers and the like start with digits
		// (hundreds of MB of garbage per hourly backup of the bench-db
		// database).
		switch numberForm(v) {
		case formInteger:
			return ClassInteger
		case formReal:
			var buf [32]byte
			if f, ok := parseReal(v); ok && bytes.Equal(AppendReal(buf[:0], f), v) {
				return ClassReal
			}
		}
		if string(v) == "-Infinity" {
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

// Forms of numberForm.
const (
	formOther   = iota
	formInteger // as strconv.FormatInt writes an int64
	formReal    // could be AppendReal's, to be confirmed by parsing
)

// numberForm tells whether v is an INTEGER as AppendInteger writes it
// (-?[1-9][0-9]*, or 0, within int64), or has the shape of a finite REAL
// as AppendReal writes it (-?[0-9]+(.[0-9]+)?(e[+-][0-9]+)? with a . or
// an e), without parsing it.
func numberForm(v []byte) int {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	digits := i
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n := i - digits
	if n == 0 {
		return formOther
	}
	if i == len(v) {
		return integerForm(v[digits:], digits > 0)
	}
	if v[i] == '.' {
		i++
		frac := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == frac {
			return formOther
		}
		if i == len(v) {
			return formReal
		}
	}
	if v[i] != 'e' || i+2 >= len(v) || (v[i+1] != '+' && v[i+1] != '-') {
		return formOther
	}
	for i += 2; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return formOther
		}
	}
	return formReal
}

// integerForm tells whether the digits d (after a minus when neg) are
// strconv.FormatInt's form of an int64: no leading zero, no -0, and
// within -9223372036854775808..9223372036854775807.
func integerForm(d []byte, neg bool) int {
	if d[0] == '0' && (len(d) > 1 || neg) {
		return formOther
	}
	const maxInt64, minInt64 = "9223372036854775807", "9223372036854775808"
	switch {
	case len(d) < len(maxInt64):
		return formInteger
	case len(d) > len(maxInt64):
		return formOther
	case neg && string(d) <= minInt64, !neg && string(d) <= maxInt64:
		return formInteger
	}
	return formOther
}

// isBlob says whether v is \x and an even count of lowercase hex digits,
// as AppendBytes writes a BLOB.
func isBlob(v []byte) bool {
	if !bytes.HasPrefix(v, []byte(`\x`)) || len(v)%2 != 0 {
		return false
	}
	for _, c := range v[2:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func parseReal(v []byte) (float64, bool) {
	switch string(v) {
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
