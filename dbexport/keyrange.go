package dbexport

import (
	"fmt"
	"math/big"
	"strings"

	"strata/repo"
)

// A key as the user writes it (dump --key-range, history --key) is its
// fields in the order of the table's primary key, separated by commas: 42,
// or 7,2025-06-01 for a key (customer_id, day). A field that holds a comma
// or a double quote is written in double quotes with quotes doubled, as in
// CSV ("Smith, J"). Fields are values, not COPY text: no backslash escapes.

// ParseKey splits a key as the user writes it into its fields.
func ParseKey(s string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	quoted, inQuotes := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuotes && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case inQuotes && c == '"':
			inQuotes = false
		case inQuotes:
			cur.WriteByte(c)
		case c == '"' && cur.Len() == 0 && !quoted:
			inQuotes, quoted = true, true
		case c == ',':
			fields = append(fields, cur.String())
			cur.Reset()
			quoted = false
		case quoted:
			return nil, fmt.Errorf("key %q: nothing may follow a quoted field but a comma", s)
		default:
			cur.WriteByte(c)
		}
	}
	if inQuotes {
		return nil, fmt.Errorf("key %q: a quote is not closed", s)
	}
	return append(fields, cur.String()), nil
}

// KeyRange selects rows by primary key: those from From to To, both
// included; a nil bound is open. A bound may give fewer fields than the
// key has: it then bounds the leading fields only, so 5..5 on a key
// (customer_id, id) is every row of customer 5. Keys compare field by
// field as CompareKeys orders first keys: as numbers when both are
// integers, else bytewise.
type KeyRange struct {
	From, To []string
}

// ParseKeyRange reads FROM..TO, FROM.. or ..TO, each a key as ParseKey
// reads it. The first ".." outside double quotes separates them, so a
// text field that holds ".." is written in quotes.
func ParseKeyRange(s string) (KeyRange, error) {
	sep, inQuotes := -1, false
	for i := 0; i < len(s) && sep < 0; i++ {
		switch {
		case s[i] == '"':
			inQuotes = !inQuotes
		case !inQuotes && strings.HasPrefix(s[i:], ".."):
			sep = i
		}
	}
	if sep < 0 {
		return KeyRange{}, fmt.Errorf("key range %q: want FROM..TO, FROM.. or ..TO (a key's fields separated by commas)", s)
	}
	var kr KeyRange
	var err error
	if from := s[:sep]; from != "" {
		if kr.From, err = ParseKey(from); err != nil {
			return KeyRange{}, err
		}
	}
	if to := s[sep+2:]; to != "" {
		if kr.To, err = ParseKey(to); err != nil {
			return KeyRange{}, err
		}
	}
	if kr.From == nil && kr.To == nil {
		return KeyRange{}, fmt.Errorf("key range %q: give FROM, TO or both", s)
	}
	if kr.From != nil && kr.To != nil && compareFields(kr.From, kr.To) > 0 {
		return KeyRange{}, fmt.Errorf("key range %q: FROM sorts after TO", s)
	}
	return kr, nil
}

// String writes the range back as the user writes it.
func (kr KeyRange) String() string {
	return FormatKey(kr.From) + ".." + FormatKey(kr.To)
}

// FormatKey writes key fields as ParseKey reads them.
func FormatKey(fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		if strings.ContainsAny(f, ",\"") || strings.Contains(f, "..") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		out[i] = f
	}
	return strings.Join(out, ",")
}

// CheckKey refuses key fields that cannot name a key of t: more fields
// than its primary key has, or a field of an integer column that is no
// integer. what names the fields in the message ("FROM", "--key").
func (t *Table) CheckKey(fields []string, what string) error {
	cols := t.KeyColumns()
	if len(fields) > len(cols) {
		return fmt.Errorf("%s gives %d fields, but the key of table %s has %d: %s", what, len(fields), t.QualifiedName(), len(cols), t.keyNames())
	}
	for i, f := range fields {
		c := t.Columns[cols[i]]
		if _, ok := new(big.Int).SetString(f, 10); c.Kind == KindInt && !ok {
			return fmt.Errorf("%s: %q is not an integer, but key column %s of table %s is one", what, f, c.Name, t.QualifiedName())
		}
	}
	return nil
}

// keyNames lists the key columns of t, comma-separated.
func (t *Table) keyNames() string {
	var names []string
	for _, k := range t.KeyColumns() {
		names = append(names, t.Columns[k].Name)
	}
	if len(t.PrimaryKey) == 0 {
		return "(" + strings.Join(names, ", ") + "; no primary key: all columns)"
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// KeyOrdered reports whether t's rows are stored in the order CompareKeys
// gives their keys, so that first keys locate a key (ChunkSeeker): every
// key column is an integer, which every engine orders as numbers. Text,
// dates or decimals sort by the database's collation and rules, which
// strata does not know; a reader of such a table reads every chunk.
func (t *Table) KeyOrdered() bool {
	if len(t.PrimaryKey) == 0 {
		return false // ordered by all columns, NULLs where the engine puts them
	}
	for _, k := range t.KeyColumns() {
		if t.Columns[k].Kind != KindInt {
			return false
		}
	}
	return true
}

// KeyValues returns the key fields of a row of t, unescaped (a typed
// text's tag dropped); NULL reads as \N.
func KeyValues(row [][]byte, keyCols []int) ([]string, error) {
	out := make([]string, len(keyCols))
	for i, k := range keyCols {
		if k >= len(row) {
			return nil, fmt.Errorf("%d fields, key column %d missing", len(row), k+1)
		}
		v, ok, err := Unescape(row[k])
		if err != nil {
			return nil, err
		}
		if !ok {
			v = []byte(Null)
		}
		out[i] = string(v)
	}
	return out, nil
}

// compareFields compares key values field by field over the fields both
// have, as CompareKeys compares fields.
func compareFields(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareField(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// KeyEqual reports whether key values (all fields of a row's key) are
// the key fields want, compared as Contains compares them (7 and 007 are
// one integer).
func KeyEqual(key, want []string) bool {
	return len(key) == len(want) && compareFields(key, want) == 0
}

// Contains reports whether key values (all fields of a row's key) lie in
// the range.
func (kr KeyRange) Contains(key []string) bool {
	return (kr.From == nil || compareFields(key, kr.From) >= 0) && (kr.To == nil || compareFields(key, kr.To) <= 0)
}

// firstKeyValues splits a first key (FirstKey: raw key fields joined by
// tabs) into values.
func firstKeyValues(firstKey string) []string {
	raw := strings.Split(firstKey, "\t")
	for i, f := range raw {
		if v, ok, err := Unescape([]byte(f)); err == nil && ok {
			raw[i] = string(v)
		}
	}
	return raw
}

// Bounds are the range as first-key tests for repo.ChunkSeeker.Range. A
// chunk that ends just below a first key equal to a whole-key FROM holds
// only keys below FROM; with fewer fields, keys just below may still
// share FROM's leading fields.
func (kr KeyRange) Bounds(keyFields int) repo.KeyBounds {
	var b repo.KeyBounds
	if kr.From != nil {
		whole := len(kr.From) == keyFields
		b.EndsBefore = func(k string) bool {
			c := compareFields(firstKeyValues(k), kr.From)
			return c < 0 || (c == 0 && whole)
		}
	}
	if kr.To != nil {
		b.After = func(k string) bool { return compareFields(firstKeyValues(k), kr.To) > 0 }
	}
	return b
}
