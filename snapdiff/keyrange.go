package snapdiff

import (
	"strata/dbexport"
	"strata/repo"
)

// This file applies Options.KeyRange (dbexport.KeyRange, as dump
// --key-range reads it) to spans and changes.

// ranged reports whether a key range is set.
func ranged(kr dbexport.KeyRange) bool { return kr.From != nil || kr.To != nil }

// holds reports whether a change's key lies in the range.
func holds(kr dbexport.KeyRange, c *Change) bool {
	if !ranged(kr) {
		return true
	}
	vals, err := dbexport.KeyValues(c.Key, seq(len(c.Key)))
	return err == nil && kr.Contains(vals)
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// spanSkipper passes over spans that lie wholly outside the range,
// unread. Only for a table whose rows are stored in the order first keys
// compare in (dbexport.Table.KeyOrdered: integer keys); for others every
// span is read and its changes filtered.
type spanSkipper struct {
	bounds repo.KeyBounds
	on     bool
}

func newSpanSkipper(kr dbexport.KeyRange, t *TableDiff) spanSkipper {
	if !ranged(kr) || !t.Keyed {
		return spanSkipper{}
	}
	for _, side := range []*dbexport.Table{t.A, t.B} {
		if side != nil && !side.KeyOrdered() {
			return spanSkipper{}
		}
	}
	return spanSkipper{bounds: kr.Bounds(len(t.Key)), on: true}
}

// before reports whether every row of a span lies before the range: its
// keys are below the span's end.
func (s spanSkipper) before(sp span) bool {
	return s.on && s.bounds.EndsBefore != nil && sp.hasEnd && s.bounds.EndsBefore(sp.end)
}

// after reports whether every row of a span, and of the spans after it,
// lies after the range.
func (s spanSkipper) after(sp span) bool {
	if !s.on || s.bounds.After == nil {
		return false
	}
	start, ok := spanStart(sp)
	return ok && s.bounds.After(start)
}

// spanStart is the first key of a span: the lower first key of its
// first chunks.
func spanStart(sp span) (string, bool) {
	var keys []string
	for _, cs := range [][]repo.ChunkRef{sp.a, sp.b} {
		if len(cs) > 0 {
			if !cs[0].HasInfo || len(cs[0].Info.FirstKey) >= repo.MaxFirstKey || !cs[0].StartsAtKey() {
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
