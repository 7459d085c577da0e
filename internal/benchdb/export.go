package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// The export file that goes to restic holds every table of one snapshot
// as `strata dump SNAPSHOT TABLE --format tsv` writes it (COPY text, rows
// ordered by primary key), each wrapped as pg_dump wraps COPY data:
//
//	COPY table FROM stdin;
//	row
//	...
//	\.
const (
	copyHeader  = "COPY %s FROM stdin;\n"
	copyTrailer = "\\.\n"
)

// writeExport dumps each table of snapshot id from the strata repository
// into path.
func writeExport(strata string, env []string, id string, tables []string, path string) (run, error) {
	f, err := os.Create(path)
	if err != nil {
		return run{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var total run
	for _, t := range tables {
		fmt.Fprintf(w, copyHeader, t)
		r, err := command(env, "", w, strata, "dump", id, t, "--format", "tsv")
		if err != nil {
			return total, err
		}
		total.Seconds += r.Seconds
		total.RSSKiB = max(total.RSSKiB, r.RSSKiB)
		w.WriteString(copyTrailer)
	}
	if err := w.Flush(); err != nil {
		return total, err
	}
	return total, f.Close()
}

// exportReader reads an export file row by row.
type exportReader struct {
	sc    *bufio.Scanner
	table string
	// order is the position of table in the export, to merge two exports
	// with the same table order.
	order int
	id    int64
	line  []byte
}

func newExportReader(r io.Reader) *exportReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &exportReader{sc: sc, order: -1}
}

// next moves to the next row; it returns false at the end.
func (e *exportReader) next() (bool, error) {
	for e.sc.Scan() {
		line := e.sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("COPY ")) && bytes.HasSuffix(line, []byte(" FROM stdin;")):
			e.table = strings.TrimSuffix(strings.TrimPrefix(string(line), "COPY "), " FROM stdin;")
			e.order++
			continue
		case string(line) == `\.`:
			continue
		}
		tab := bytes.IndexByte(line, '\t')
		if tab < 0 {
			tab = len(line)
		}
		id, err := strconv.ParseInt(string(line[:tab]), 10, 64)
		if err != nil {
			return false, fmt.Errorf("table %s: row without an integer primary key first: %q", e.table, line)
		}
		e.id, e.line = id, line
		return true, nil
	}
	return false, e.sc.Err()
}

// before reports whether e's row sorts before o's (table order, then id).
func (e *exportReader) before(o *exportReader) bool {
	return e.order < o.order || (e.order == o.order && e.id < o.id)
}

// changedRows writes to w the rows of cur that are new or differ from
// the row with the same table and primary key in prev, and returns their
// count. Both exports hold the same tables in the same order.
func changedRows(prev, cur string, w io.Writer) (int, error) {
	pf, err := os.Open(prev)
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	cf, err := os.Open(cur)
	if err != nil {
		return 0, err
	}
	defer cf.Close()
	p, c := newExportReader(pf), newExportReader(cf)
	pok, err := p.next()
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		cok, err := c.next()
		if err != nil {
			return n, err
		}
		if !cok {
			return n, nil
		}
		for pok && p.before(c) {
			if pok, err = p.next(); err != nil {
				return n, err
			}
		}
		if pok && p.order == c.order && p.id == c.id && bytes.Equal(p.line, c.line) {
			continue
		}
		n++
		w.Write(c.line)
		w.Write([]byte{'\n'})
	}
}

// zstdSize is the size of data compressed with zstd level 3 (klauspost's
// SpeedDefault) as one stream.
func zstdSize(r io.Reader) (int64, error) {
	var cw countWriter
	enc, err := zstd.NewWriter(&cw, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(enc, r); err != nil {
		return 0, err
	}
	if err := enc.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
