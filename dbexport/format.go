package dbexport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"strata/pack"
	"strata/repo/restore"
)

// Dump formats.
const (
	FormatTSV   = "tsv"   // the stored COPY text, unchanged
	FormatCSV   = "csv"   // RFC 4180 with a header, as PostgreSQL's CSV: NULL is an empty field, the empty string ""
	FormatJSONL = "jsonl" // one JSON object per row; NULL is null
)

// DumpTable writes one table of a snapshot to w in format.
func DumpTable(ctx context.Context, l restore.BlobLoader, root pack.ID, name, format string, w io.Writer) error {
	_, t, err := TableNode(ctx, l, root, name)
	if err != nil {
		return err
	}
	name = t.QualifiedName()
	rowEnc, err := t.RowEncodingOf()
	if err != nil {
		return err
	}
	typed := rowEnc == RowEncodingTyped
	if (format == FormatTSV || format == "") && !typed {
		return restore.Dump(ctx, l, root, "/"+name, w)
	}
	if format == "" {
		format = FormatTSV
	}
	if format != FormatTSV && format != FormatCSV && format != FormatJSONL {
		return fmt.Errorf("unknown format %q: want csv, tsv or jsonl", format)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(restore.Dump(ctx, l, root, "/"+name, pw)) }()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var line []byte
	if format == FormatCSV {
		for i, c := range t.Columns {
			if i > 0 {
				line = append(line, ',')
			}
			line = appendCSVField(line, []byte(c.Name))
		}
		if _, err := bw.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	row := 0
	for sc.Scan() {
		row++
		fields := SplitRow(sc.Bytes())
		if len(fields) != len(t.Columns) {
			return fmt.Errorf("table %s row %d: %d fields for %d columns", name, row, len(fields), len(t.Columns))
		}
		obj := make(jsonRow, 0, len(fields))
		line = line[:0]
		if format == FormatTSV {
			// Typed rows as plain COPY text: without the TEXT tags.
			for i, f := range fields {
				if i > 0 {
					line = append(line, '\t')
				}
				line = append(line, UntagText(f)...)
			}
			if _, err := bw.Write(append(line, '\n')); err != nil {
				return err
			}
			continue
		}
		for i, f := range fields {
			if typed && format == FormatJSONL {
				tv, err := DecodeTyped(f)
				if err != nil {
					return fmt.Errorf("table %s row %d column %s: %w", name, row, t.Columns[i].Name, err)
				}
				obj = append(obj, jsonField{t.Columns[i].Name, typedJSON(tv)})
				continue
			}
			v, ok, err := Unescape(f)
			if err != nil {
				return fmt.Errorf("table %s row %d column %s: %w", name, row, t.Columns[i].Name, err)
			}
			if format == FormatCSV {
				if i > 0 {
					line = append(line, ',')
				}
				if ok { // NULL stays an empty, unquoted field
					line = appendCSVField(line, v)
				}
				continue
			}
			obj = append(obj, jsonField{t.Columns[i].Name, jsonValue(v, ok, t.Columns[i].Kind)})
		}
		if format == FormatCSV {
			if _, err := bw.Write(append(line, '\n')); err != nil {
				return err
			}
		} else if err := enc.Encode(obj); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	return bw.Flush()
}

// appendCSVField appends a non-NULL value as PostgreSQL's COPY ... (FORMAT
// csv) writes it, so NULL (an empty, unquoted field) and the empty string
// ("") stay apart: quoted when it is empty, is \., or holds a comma, a
// quote, CR or LF; quotes inside are doubled.
func appendCSVField(b, v []byte) []byte {
	if len(v) > 0 && string(v) != `\.` && !bytes.ContainsAny(v, ",\"\r\n") {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

type jsonField struct {
	name  string
	value any
}

// jsonRow keeps the table's column order in the JSON object.
type jsonRow []jsonField

func (r jsonRow) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for i, f := range r {
		if i > 0 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(f.name)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
}

// typedJSON is a typed value in JSON: numbers as numbers (infinities,
// which JSON lacks, as the strings Infinity and -Infinity), a BLOB as its
// \x hex text.
func typedJSON(v TypedValue) any {
	switch v.Class {
	case ClassNull:
		return nil
	case ClassInteger:
		return v.Int
	case ClassReal:
		if math.IsInf(v.Real, 0) {
			return string(AppendReal(nil, v.Real))
		}
		return json.Number(AppendReal(nil, v.Real))
	case ClassBlob:
		return string(AppendBlobText(v.Bytes))
	}
	return string(v.Bytes)
}

// jsonValue types a field by its column kind: numbers stay numbers (as
// written, so no precision is lost), booleans become true/false, JSON
// columns are embedded, everything else is a string.
func jsonValue(v []byte, ok bool, kind string) any {
	if !ok {
		return nil
	}
	s := string(v)
	switch kind {
	case KindInt, KindNumeric:
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return json.Number(s)
		}
	case KindFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(s)
		}
	case KindBool:
		switch s {
		case "t", "true", "1":
			return true
		case "f", "false", "0":
			return false
		}
	case KindJSON:
		if json.Valid(v) {
			return json.RawMessage(v)
		}
	}
	return s
}
