package mysql

import (
	"slices"
	"strings"
)

// This file decides which database-level grants apply to the database,
// as the server decides (docs/design.md, "MySQL and MariaDB", "Grants").
// An account's rows in mysql.db name a database or a wildcard pattern
// (`shop\_%`.*); the server takes an account's privileges on a database
// from the first row that matches it, in the order of sortKey, and
// ignores the others: the union of every matching row would be more than
// the account has.

// dbRow is one privilege of one of an account's mysql.db rows, as
// information_schema.SCHEMA_PRIVILEGES shows it.
type dbRow struct {
	pattern   string // TABLE_SCHEMA: a name, or a pattern
	privilege string
	grantable bool
}

// patternMatches reports whether the grant pattern p matches the database
// name db as the server compares them: byte by byte, `%` any run of bytes,
// `_` one byte, `\` quotes the byte after it; case aside when foldCase
// (lower_case_table_names set, which stores both in lower case).
func patternMatches(p, db string, foldCase bool) bool {
	if foldCase {
		p, db = strings.ToLower(p), strings.ToLower(db)
	}
	type token struct {
		lit  byte
		wild byte // 0 for a literal, '%' or '_'
	}
	var toks []token
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			toks = append(toks, token{lit: p[i]})
		case c == '%' || c == '_':
			toks = append(toks, token{wild: c})
		default:
			toks = append(toks, token{lit: c})
		}
	}
	// at[j]: the tokens so far match db[:j].
	at := make([]bool, len(db)+1)
	at[0] = true
	for _, t := range toks {
		next := make([]bool, len(db)+1)
		for j := range at {
			if !at[j] {
				continue
			}
			switch {
			case t.wild == '%':
				for k := j; k <= len(db); k++ {
					next[k] = true
				}
			case j < len(db) && (t.wild == '_' || db[j] == t.lit):
				next[j+1] = true
			}
		}
		at = next
	}
	return at[len(db)]
}

// sortKey is how specific a pattern is, as the server ranks an account's
// rows (get_sort in MariaDB's and MySQL's sql_acl.cc): higher first. A name
// without wildcards ranks 128; a pattern ranks by the position of its
// first unquoted wildcard, counting from 1 (the backslashes before it
// count too), at most 127; the empty string ranks 0.
func sortKey(p string) int {
	key := 0
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
		case p[i] == '%' || p[i] == '_':
			return min(i+1, 127)
		}
		key = 128
	}
	return key
}

// effectiveDBRows returns, of one account's rows, the privileges the
// server gives it on db: those of the most specific pattern that matches
// db. When patterns of the same rank match, the server's choice among
// them is not defined (it sorts with an unstable sort), so only the
// privileges all of them hold are kept, grantable only when all grant
// them: a restore never gives more than the source did. The rows returned
// carry the first such pattern.
func effectiveDBRows(rows []dbRow, db string, foldCase bool) []dbRow {
	best := -1
	var patterns []string
	for _, r := range rows {
		if !patternMatches(r.pattern, db, foldCase) {
			continue
		}
		switch k := sortKey(r.pattern); {
		case k > best:
			best, patterns = k, []string{r.pattern}
		case k == best && !slices.Contains(patterns, r.pattern):
			patterns = append(patterns, r.pattern)
		}
	}
	if len(patterns) == 0 {
		return nil
	}
	slices.Sort(patterns)
	// privs[pattern][privilege] = grantable
	privs := map[string]map[string]bool{}
	for _, r := range rows {
		if slices.Contains(patterns, r.pattern) {
			if privs[r.pattern] == nil {
				privs[r.pattern] = map[string]bool{}
			}
			privs[r.pattern][r.privilege] = r.grantable
		}
	}
	var out []dbRow
	for _, r := range rows {
		if r.pattern != patterns[0] {
			continue
		}
		keep := r
		for _, p := range patterns[1:] {
			grantable, ok := privs[p][r.privilege]
			if !ok {
				keep.privilege = ""
				break
			}
			keep.grantable = keep.grantable && grantable
		}
		if keep.privilege != "" {
			out = append(out, keep)
		}
	}
	return out
}
