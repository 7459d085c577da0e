package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"strata/dbexport"
)

// baseType is the type name of a COLUMN_TYPE, lowercased and without its
// length or attributes: "int(10) unsigned" -> "int".
func baseType(columnType string) string {
	t := strings.ToLower(strings.TrimSpace(columnType))
	if i := strings.IndexAny(t, "( "); i >= 0 {
		t = t[:i]
	}
	return t
}

// kindOf maps a MySQL/MariaDB column type to its engine-neutral kind.
// isJSON marks a MariaDB JSON column, which the server reports as longtext
// with a json_valid check.
func kindOf(columnType string, isJSON bool) string {
	if isJSON {
		return dbexport.KindJSON
	}
	t := strings.ToLower(strings.TrimSpace(columnType))
	switch baseType(t) {
	case "tinyint":
		// tinyint(1) is how MySQL spells BOOLEAN (and what Laravel creates
		// for ->boolean()); its values are still exported as integers.
		if strings.HasPrefix(t, "tinyint(1)") {
			return dbexport.KindBool
		}
		return dbexport.KindInt
	case "smallint", "mediumint", "int", "integer", "bigint", "year":
		return dbexport.KindInt
	case "bit":
		if strings.HasPrefix(t, "bit(1)") {
			return dbexport.KindBool
		}
		return dbexport.KindInt
	case "float", "double", "real":
		return dbexport.KindFloat
	case "decimal", "numeric", "dec", "fixed":
		return dbexport.KindNumeric
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return dbexport.KindText
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return dbexport.KindBytes
	case "date":
		return dbexport.KindDate
	case "time":
		return dbexport.KindTime
	case "datetime":
		return dbexport.KindTimestamp
	case "timestamp":
		return dbexport.KindTimestampTZ
	case "json":
		return dbexport.KindJSON
	case "uuid":
		return dbexport.KindUUID
	}
	return dbexport.KindOther
}

// codec says how one column's values travel between the server and COPY
// text. Source and target derive it from the column type alone, so a
// snapshot needs nothing else to be restored.
type codec int

const (
	// codecText: the server's text form, escaped.
	codecText codec = iota
	// codecBytes: binary strings and spatial values (the server's
	// internal WKB form), written as bytea hex.
	codecBytes
	// codecFloat32: FLOAT. MariaDB prints a FLOAT with 6 significant
	// digits, which does not round-trip, so the column is read as the
	// double it widens to and written as the shortest float32.
	codecFloat32
	// codecFloat64: DOUBLE, written as the shortest float64.
	codecFloat64
	// codecBit: BIT(n). The server sends raw bytes; it is read as an
	// unsigned integer and written back as one.
	codecBit
)

func codecOf(columnType string) codec {
	switch baseType(columnType) {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint",
		"multilinestring", "multipolygon", "geometrycollection", "geomcollection",
		"vector":
		return codecBytes
	case "float":
		return codecFloat32
	case "double", "real":
		return codecFloat64
	case "bit":
		return codecBit
	}
	return codecText
}

// selectExpr is the expression CopyOut selects for a column.
func (c codec) selectExpr(col string) string {
	q := quoteIdent(col)
	switch c {
	case codecFloat32:
		return q + " + 0e0"
	case codecBit:
		return "CAST(" + q + " AS UNSIGNED)"
	}
	return q
}

// appendValue appends one value, as the driver returns it on the text
// protocol (nil, []byte, int64, uint64, float32 or float64), in COPY text.
func (c codec) appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, dbexport.Null...), nil
	case []byte:
		if c == codecBytes {
			return dbexport.AppendBytes(dst, v), nil
		}
		return dbexport.AppendField(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case float32:
		return appendFloat(dst, float64(v), 32), nil
	case float64:
		if c == codecFloat32 {
			return appendFloat(dst, float64(float32(v)), 32), nil
		}
		return appendFloat(dst, v, 64), nil
	}
	return dst, fmt.Errorf("unexpected value of type %T from the driver", v)
}

// appendFloat writes the shortest decimal that reads back as the same
// float, laid out as PostgreSQL's float8out/float4out do: plain digits
// when the decimal exponent is in [-4, 15) (float4: [-4, 6)), else
// d.ddde±XX. So a MySQL double and a PostgreSQL float8 of equal value
// export the same text.
func appendFloat(dst []byte, v float64, bits int) []byte {
	e := strconv.AppendFloat(nil, v, 'e', -1, bits)
	i := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[i+1:]))
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(dst, e...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, bits)
}

// decodeValue turns one unescaped COPY field into the query argument
// that stores it.
func (c codec) decodeValue(v []byte) (any, error) {
	switch c {
	case codecBytes:
		b, err := dbexport.DecodeBytes(v)
		if err != nil {
			return nil, err
		}
		return b, nil // never nil: the driver sends a nil []byte as NULL
	case codecFloat32, codecFloat64:
		// Parsed here, not by the server: the server would parse the
		// shortest float32 text as a double and then narrow it, which
		// can land on the neighbouring float, or overflow at FLT_MAX.
		bits := 64
		if c == codecFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(v), bits)
		if err != nil {
			return nil, fmt.Errorf("float value %q: %w", v, err)
		}
		return f, nil
	case codecBit:
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bit value %q is not an unsigned integer", v)
		}
		return n, nil
	}
	return string(v), nil
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteString quotes a MySQL string literal (for the session's sql_mode,
// in which backslash is an escape).
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	return "'" + r.Replace(s) + "'"
}
