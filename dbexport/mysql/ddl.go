package mysql

import (
	"fmt"
	"strings"
)

// The functions here rewrite the statements SHOW CREATE TABLE, SHOW
// CREATE VIEW and SHOW CREATE TRIGGER print (with sql_quote_show_create
// on and without ANSI_QUOTES, which Open sets). They scan quoted tokens
// instead of matching text, so a comment, default or name that happens to
// contain "AUTO_INCREMENT=" or a comma is left alone.

// skipQuoted returns the index just past the quoted token that starts at
// s[i] (`identifier`, 'string' or "string"), or len(s) if it never closes.
// A doubled quote stays inside; in strings a backslash escapes the next
// byte.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

func isQuote(c byte) bool { return c == '`' || c == '\'' || c == '"' }

// indexTopLevel is strings.Index(s[from:], sub) + from, counting only
// matches that start outside quoted tokens; -1 if there is none.
func indexTopLevel(s, sub string, from int) int {
	for i := from; i < len(s); {
		if strings.HasPrefix(s[i:], sub) {
			return i
		}
		if isQuote(s[i]) {
			i = skipQuoted(s, i)
			continue
		}
		i++
	}
	return -1
}

// createTable is a CREATE TABLE statement split into the text before its
// definition list, the definitions (columns, keys, constraints), and the
// text from the closing parenthesis on (table options, partitioning).
type createTable struct {
	head  string // "CREATE TABLE `t` ("
	items []string
	tail  string // ") ENGINE=InnoDB ..."
}

func parseCreateTable(ddl string) (createTable, error) {
	depth, open, itemStart := 0, -1, 0
	var items []string
	for i := 0; i < len(ddl); {
		c := ddl[i]
		if isQuote(c) {
			i = skipQuoted(ddl, i)
			continue
		}
		switch c {
		case '(':
			depth++
			if depth == 1 && open < 0 {
				open, itemStart = i, i+1
			}
		case ')':
			depth--
			if depth == 0 && open >= 0 {
				items = append(items, strings.TrimSpace(ddl[itemStart:i]))
				return createTable{head: ddl[:open+1], items: items, tail: ddl[i:]}, nil
			}
		case ',':
			if depth == 1 && open >= 0 {
				items = append(items, strings.TrimSpace(ddl[itemStart:i]))
				itemStart = i + 1
			}
		}
		i++
	}
	return createTable{}, fmt.Errorf("cannot parse CREATE TABLE statement")
}

// String lays the statement out as SHOW CREATE TABLE does.
func (c createTable) String() string {
	return c.head + "\n  " + strings.Join(c.items, ",\n  ") + "\n" + c.tail
}

// isForeignKey reports whether a definition is a foreign key:
// "CONSTRAINT `name` FOREIGN KEY (...) REFERENCES ...".
func isForeignKey(item string) bool {
	rest := item
	if strings.HasPrefix(rest, "CONSTRAINT ") {
		rest = strings.TrimLeft(rest[len("CONSTRAINT "):], " ")
		if rest != "" && isQuote(rest[0]) {
			rest = rest[skipQuoted(rest, 0):]
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			rest = rest[i:]
		}
		rest = strings.TrimLeft(rest, " ")
	}
	return strings.HasPrefix(rest, "FOREIGN KEY")
}

// takeAutoIncrement removes the AUTO_INCREMENT=N table option from the
// options text and returns N as written ("" when there is none; as text
// because an unsigned BIGINT counter may pass int64).
func takeAutoIncrement(tail string) (string, string) {
	const opt = " AUTO_INCREMENT="
	i := indexTopLevel(tail, opt, 0)
	if i < 0 {
		return tail, ""
	}
	j := i + len(opt)
	for j < len(tail) && tail[j] >= '0' && tail[j] <= '9' {
		j++
	}
	if j == i+len(opt) {
		return tail, ""
	}
	return tail[:i] + tail[j:], tail[i+len(opt) : j]
}

// tableDDL is what a table's SHOW CREATE TABLE becomes in a snapshot.
type tableDDL struct {
	create        string   // without foreign keys and AUTO_INCREMENT=N
	foreignKeys   []string // "CONSTRAINT `fk` FOREIGN KEY ..."
	autoIncrement string   // "": none
}

// splitTableDDL takes the foreign keys and the auto-increment position out
// of a CREATE TABLE, so the statement does not change as ids are handed
// out and tables can be created in any order; the restore adds both back
// after loading the rows (see docs/design.md, "MySQL and MariaDB").
func splitTableDDL(ddl string) (tableDDL, error) {
	ct, err := parseCreateTable(ddl)
	if err != nil {
		return tableDDL{}, err
	}
	var out tableDDL
	kept := ct.items[:0:0]
	for _, it := range ct.items {
		if isForeignKey(it) {
			out.foreignKeys = append(out.foreignKeys, it)
		} else {
			kept = append(kept, it)
		}
	}
	ct.items = kept
	ct.tail, out.autoIncrement = takeAutoIncrement(ct.tail)
	out.create = ct.String()
	return out, nil
}

// stripDefiner removes "DEFINER=`user`@`host` " from the head of a CREATE
// VIEW or CREATE TRIGGER, so the object is owned by whoever restores it
// rather than by an account that may not exist on the target.
func stripDefiner(ddl string) string {
	const kw = "DEFINER="
	i := indexTopLevel(ddl, kw, 0)
	if i < 0 || strings.ContainsAny(ddl[:i], "`'\"(") {
		return ddl // not in the statement's head
	}
	j := i + len(kw)
	skipName := func() {
		if j < len(ddl) && isQuote(ddl[j]) {
			j = skipQuoted(ddl, j)
			return
		}
		for j < len(ddl) && ddl[j] != '@' && ddl[j] != ' ' {
			j++
		}
	}
	skipName()
	if j < len(ddl) && ddl[j] == '@' {
		j++
		skipName()
	}
	for j < len(ddl) && ddl[j] == ' ' {
		j++
	}
	return ddl[:i] + ddl[j:]
}

// stripDatabase removes the qualifier `db`. from identifiers, as MySQL
// writes them into view definitions, so the view works in whichever
// database it is restored to. References to other databases stay.
func stripDatabase(ddl, db string) string {
	q := quoteIdent(db)
	var b strings.Builder
	last := 0
	for i := 0; i < len(ddl); {
		if !isQuote(ddl[i]) {
			i++
			continue
		}
		j := skipQuoted(ddl, i)
		if ddl[i:j] == q && j < len(ddl) && ddl[j] == '.' {
			b.WriteString(ddl[last:i])
			last = j + 1
		}
		i = j
	}
	b.WriteString(ddl[last:])
	return b.String()
}
