package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strata/internal/customerdb"
)

// splitExport writes each table of an export file into dir/TABLE.tsv
// (COPY text without header and trailer).
func splitExport(export, dir string) error {
	in, err := os.Open(export)
	if err != nil {
		return err
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var (
		f *os.File
		w *bufio.Writer
	)
	closeTable := func() error {
		if f == nil {
			return nil
		}
		err := w.Flush()
		if err1 := f.Close(); err == nil {
			err = err1
		}
		f = nil
		return err
	}
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("COPY ")) && bytes.HasSuffix(line, []byte(" FROM stdin;")) {
			if err := closeTable(); err != nil {
				return err
			}
			table := strings.TrimSuffix(strings.TrimPrefix(string(line), "COPY "), " FROM stdin;")
			if f, err = os.Create(filepath.Join(dir, table+".tsv")); err != nil {
				return err
			}
			w = bufio.NewWriterSize(f, 1<<20)
			continue
		}
		if string(line) == `\.` || w == nil {
			continue
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return closeTable()
}

// importScript is the sqlite3 script that loads the split export into a
// new database the way a DBA would by hand: create the tables, .import
// each file in one transaction, turn COPY's \N back into NULL in the
// nullable columns, then create the indexes. The data holds no tabs,
// backslashes or double quotes, so .import needs no other unescaping.
func importScript(dir string, nullable map[string][]string) string {
	tables, indexes := customerdb.DDL()
	var b strings.Builder
	b.WriteString("BEGIN;\n")
	for _, s := range tables {
		b.WriteString(s + ";\n")
	}
	b.WriteString(".mode tabs\n")
	for _, t := range customerdb.Tables() {
		fmt.Fprintf(&b, ".import %s %s\n", filepath.Join(dir, t+".tsv"), t)
	}
	for _, t := range customerdb.Tables() {
		if cols := nullable[t]; len(cols) > 0 {
			set := make([]string, len(cols))
			for i, c := range cols {
				set[i] = fmt.Sprintf(`"%s" = nullif("%s", '\N')`, c, c)
			}
			fmt.Fprintf(&b, "UPDATE \"%s\" SET %s;\n", t, strings.Join(set, ", "))
		}
	}
	for _, s := range indexes {
		b.WriteString(s + ";\n")
	}
	b.WriteString("COMMIT;\n")
	return b.String()
}

// nullableColumns lists, per table, the columns that may hold NULL.
func nullableColumns(db *sql.DB) (map[string][]string, error) {
	out := map[string][]string{}
	for _, t := range customerdb.Tables() {
		rows, err := db.Query(`select "name" from pragma_table_info(?) where "notnull" = 0 and "pk" = 0 order by "cid"`, t)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			out[t] = append(out[t], c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tableCounts counts the rows of every table of the database at path.
func tableCounts(path string) (map[string]int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return customerdb.CountRows(db)
}

// timed runs f and returns its wall seconds.
func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}
