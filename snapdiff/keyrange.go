package snapdiff

import (
	"fmt"
	"strings"

	"strata/dbexport"
	"strata/repo"
)

// KeyRange is a range of keys, both ends included; an end that is not
// set is open. A bound holds the leading key fields, separated by tabs
// (as first keys are written) or commas: "1000" for an integer key,
// "eu,1000" for a key of two columns, whose rows it bounds by their
// first fields.
type KeyRange struct {
	From, To       string
	HasFrom, HasTo bool
}

// ParseKeyRange parses "FROM..TO", "FROM.." or "..TO".
func ParseKeyRange(s string) (KeyRange, error) {
	from, to, ok := strings.Cut(s, "..")
	if !ok || (from == "" && to == "") {
		return KeyRange{}, fmt.Errorf("--key-range %q: want FROM..TO, FROM.. or ..TO (a key of several columns: a,b..c,d)", s)
	}
	r := KeyRange{From: bound(from), To: bound(to), HasFrom: from != "", HasTo: to != ""}
	if r.HasFrom && r.HasTo && dbexport.CompareKeys(r.From, r.To) > 0 {
		return KeyRange{}, fmt.Errorf("--key-range %q: FROM is after TO", s)
	}
	return r, nil
}

func bound(s string) string { return strings.ReplaceAll(s, ",", "\t") }

// cmpBound compares key with a bound on the bound's fields only, so every
// key whose leading fields equal the bound compares equal.
func cmpBound(key, b string) int {
	n := strings.Count(b, "\t") + 1
	fields := strings.SplitN(key, "\t", n+1)
	if len(fields) > n {
		fields = fields[:n]
	}
	return dbexport.CompareKeys(strings.Join(fields, "\t"), b)
}

// holds reports whether a key lies in the range.
func (r KeyRange) holds(key string) bool {
	return (!r.HasFrom || cmpBound(key, r.From) >= 0) && (!r.HasTo || cmpBound(key, r.To) <= 0)
}

// skips reports whether spans outside the range may be passed over
// unread: only when the rows are stored in the order keys compare in,
// which holds for integer keys in every engine (a text key's order is
// the database's collation).
func (r KeyRange) skips(t *TableDiff) bool {
	if !r.HasFrom && !r.HasTo || !t.Keyed {
		return false
	}
	for _, k := range t.Key {
		if t.Columns[k].Kind != dbexport.KindInt {
			return false
		}
	}
	return true
}

// before reports whether every row of a span lies before the range: its
// keys are below the span's end.
func (r KeyRange) before(sp span) bool {
	return r.HasFrom && sp.hasEnd && cmpBound(sp.end, r.From) < 0
}

// after reports whether every row of a span, and of the spans after it,
// lies after the range.
func (r KeyRange) after(sp span) bool {
	if !r.HasTo {
		return false
	}
	start, ok := spanStart(sp)
	return ok && cmpBound(start, r.To) > 0
}

// spanStart is the first key of a span: the lower first key of its
// first chunks.
func spanStart(sp span) (string, bool) {
	var keys []string
	for _, cs := range [][]repo.ChunkRef{sp.a, sp.b} {
		if len(cs) > 0 {
			if !cs[0].HasInfo || len(cs[0].Info.FirstKey) >= repo.MaxFirstKey {
				return "", false
			}
			keys = append(keys, cs[0].Info.FirstKey)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	if len(keys) == 2 && dbexport.CompareKeys(keys[1], keys[0]) < 0 {
		return keys[1], true
	}
	return keys[0], true
}
