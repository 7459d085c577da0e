package repo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file holds the table change log (docs/design.md, "Table change
// logs"): a data blob that a table node names beside its pages (its base)
// and that lists, by base row position, the rows deleted, replaced and
// inserted since that base. Readers see the base's chunks with the ops
// that fall in each attached (ChunkRef.Patch) and load them through
// LoadChunk.
//
// The byte layout (integers are uvarints):
//
//	Log    = Magic || BaseChunks || BaseRows || Depth || RunCount || Run × RunCount
//	Magic  = "SLG1"
//	Run    = Gap || BaseCount || ExportCount || Export (16 bytes) || OpCount || Op × OpCount
//	Op     = Kind (1 byte) || ChunkOff || Row || [OldLen] || [LineLen || Line]
//	Kind   = 0 insert (LineLen, Line), 1 delete (OldLen), 2 replace (OldLen, LineLen, Line)

// LogMagic starts every change log blob.
const LogMagic = "SLG1"

// MaxLogSize bounds a change log's plaintext: readers hold a table's log
// in memory while they walk it, and a writer that would exceed it writes a
// new base instead.
const MaxLogSize = 8 << 20

// Kinds of log ops.
const (
	LogInsert  = 0 // insert Line before base row Row of chunk Chunk (Row may be the chunk's row count: at its end)
	LogDelete  = 1 // delete base row Row of chunk Chunk, whose line is OldLen bytes
	LogReplace = 2 // replace base row Row of chunk Chunk (OldLen bytes) with Line
)

// LogOp is one change to a base row position.
type LogOp struct {
	Kind   byte
	Chunk  uint64 // base chunk index
	Row    uint64 // row within the base chunk
	OldLen uint64 // delete, replace: length of the base line, without its newline
	Line   []byte // insert, replace: the new line, without its newline
}

// LogRun is one run of the export that differed from the base: base
// chunks [FirstChunk, FirstChunk+BaseCount) were covered by ExportCount
// chunks of the export whose IDs, concatenated, hash to Export. Its ops
// fall on chunks FirstChunk-1 (inserts at its end only) through its last.
type LogRun struct {
	FirstChunk  uint64
	BaseCount   uint64
	ExportCount uint64
	Export      [16]byte // the first 16 bytes of the SHA-256 of the export chunks' IDs
	Ops         []LogOp
}

// TableLog is a decoded change log.
type TableLog struct {
	BaseChunks uint64 // chunks of the base
	BaseRows   uint64 // rows of the base
	Depth      uint64 // backups since the base was written, from 1
	Runs       []LogRun
}

// lo is the lowest chunk a run's ops may fall on.
func (r *LogRun) lo() uint64 {
	if r.FirstChunk == 0 {
		return 0
	}
	return r.FirstChunk - 1
}

// hi is the highest chunk a run's ops may fall on.
func (r *LogRun) hi() uint64 {
	if r.BaseCount == 0 {
		return r.lo()
	}
	return r.FirstChunk + r.BaseCount - 1
}

// opBefore reports whether op a sorts before op b: by chunk, row, and an
// insert before a delete or replace of the same row.
func opBefore(a, b *LogOp) bool {
	if a.Chunk != b.Chunk {
		return a.Chunk < b.Chunk
	}
	if a.Row != b.Row {
		return a.Row < b.Row
	}
	return a.Kind == LogInsert && b.Kind != LogInsert
}

// EncodeLog returns the bytes of l. The runs and ops must be in order.
func EncodeLog(l *TableLog) ([]byte, error) {
	b := []byte(LogMagic)
	b = binary.AppendUvarint(b, l.BaseChunks)
	b = binary.AppendUvarint(b, l.BaseRows)
	b = binary.AppendUvarint(b, l.Depth)
	b = binary.AppendUvarint(b, uint64(len(l.Runs)))
	var end uint64
	for i := range l.Runs {
		r := &l.Runs[i]
		if r.FirstChunk < end || (i > 0 && r.FirstChunk == end && l.Runs[i-1].BaseCount == 0) {
			return nil, fmt.Errorf("change log: run %d at chunk %d overlaps the run before", i, r.FirstChunk)
		}
		b = binary.AppendUvarint(b, r.FirstChunk-end)
		b = binary.AppendUvarint(b, r.BaseCount)
		b = binary.AppendUvarint(b, r.ExportCount)
		b = append(b, r.Export[:]...)
		b = binary.AppendUvarint(b, uint64(len(r.Ops)))
		for j := range r.Ops {
			op := &r.Ops[j]
			if op.Chunk < r.lo() || op.Chunk > r.hi() {
				return nil, fmt.Errorf("change log: op on chunk %d outside its run (%d..%d)", op.Chunk, r.lo(), r.hi())
			}
			b = append(b, op.Kind)
			b = binary.AppendUvarint(b, op.Chunk-r.lo())
			b = binary.AppendUvarint(b, op.Row)
			if op.Kind != LogInsert {
				b = binary.AppendUvarint(b, op.OldLen)
			}
			if op.Kind != LogDelete {
				b = binary.AppendUvarint(b, uint64(len(op.Line)))
				b = append(b, op.Line...)
			}
		}
		end = r.FirstChunk + r.BaseCount
	}
	if _, err := DecodeLog(b); err != nil {
		return nil, fmt.Errorf("encoding a change log: %w", err)
	}
	return b, nil
}

// DecodeLog parses and validates a change log. The ops' Lines point into b.
func DecodeLog(b []byte) (*TableLog, error) {
	if len(b) > MaxLogSize {
		return nil, fmt.Errorf("change log of %d bytes exceeds %d", len(b), MaxLogSize)
	}
	if !bytes.HasPrefix(b, []byte(LogMagic)) {
		return nil, errors.New("change log: no magic")
	}
	d := &logDecoder{b: b[len(LogMagic):]}
	l := &TableLog{BaseChunks: d.uvarint(), BaseRows: d.uvarint(), Depth: d.uvarint()}
	runs := d.uvarint()
	if d.err == nil && runs > uint64(len(d.b)) {
		d.fail("%d runs in %d bytes", runs, len(d.b))
	}
	if d.err == nil && l.Depth == 0 {
		d.fail("depth 0")
	}
	var end uint64
	var last *LogOp
	for i := uint64(0); i < runs && d.err == nil; i++ {
		gap := d.uvarint()
		r := LogRun{BaseCount: d.uvarint(), ExportCount: d.uvarint()}
		copy(r.Export[:], d.bytes(16))
		nops := d.uvarint()
		if d.err != nil {
			break
		}
		if i > 0 && gap == 0 && l.Runs[i-1].BaseCount == 0 {
			d.fail("run %d starts where the run before, of no base chunks, does", i)
			break
		}
		r.FirstChunk = end + gap
		if r.FirstChunk < end || r.FirstChunk+r.BaseCount < r.FirstChunk || r.FirstChunk+r.BaseCount > l.BaseChunks {
			d.fail("run %d (chunks %d+%d) is outside the base's %d chunks", i, r.FirstChunk, r.BaseCount, l.BaseChunks)
			break
		}
		if r.BaseCount == 0 && r.ExportCount == 0 {
			d.fail("run %d is empty", i)
			break
		}
		if l.BaseChunks == 0 {
			d.fail("a run in a log of a base without chunks")
			break
		}
		if nops > uint64(len(d.b)) {
			d.fail("%d ops in %d bytes", nops, len(d.b))
			break
		}
		r.Ops = make([]LogOp, 0, nops)
		for j := uint64(0); j < nops && d.err == nil; j++ {
			op := LogOp{Kind: d.byte1()}
			off := d.uvarint()
			op.Row = d.uvarint()
			if op.Kind > LogReplace {
				d.fail("op of unknown kind %d", op.Kind)
				break
			}
			if op.Kind != LogInsert {
				op.OldLen = d.uvarint()
			}
			if op.Kind != LogDelete {
				n := d.uvarint()
				if d.err == nil && n > uint64(len(d.b)) {
					d.fail("line of %d bytes in %d", n, len(d.b))
					break
				}
				op.Line = d.bytes(int(n))
				if bytes.IndexByte(op.Line, '\n') >= 0 {
					d.fail("a line holds a newline")
				}
			}
			if d.err != nil {
				break
			}
			op.Chunk = r.lo() + off
			if op.Chunk < r.lo() || op.Chunk > r.hi() {
				d.fail("op on chunk %d outside its run (%d..%d)", op.Chunk, r.lo(), r.hi())
				break
			}
			if op.Chunk < r.FirstChunk && op.Kind != LogInsert {
				d.fail("a %d op on chunk %d before its run", op.Kind, op.Chunk)
				break
			}
			if last != nil && !opBefore(last, &op) && !(last.Kind == LogInsert && op.Kind == LogInsert && last.Chunk == op.Chunk && last.Row == op.Row) {
				d.fail("ops out of order at chunk %d row %d", op.Chunk, op.Row)
				break
			}
			r.Ops = append(r.Ops, op)
			last = &r.Ops[len(r.Ops)-1]
		}
		end = r.FirstChunk + r.BaseCount
		l.Runs = append(l.Runs, r)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last run", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("change log: %w", d.err)
	}
	return l, nil
}

// logDecoder reads the fields of a log, remembering the first error.
type logDecoder struct {
	b   []byte
	err error
}

func (d *logDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *logDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *logDecoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *logDecoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// Ops returns every op of l, in order.
func (l *TableLog) Ops() []LogOp {
	var n int
	for i := range l.Runs {
		n += len(l.Runs[i].Ops)
	}
	ops := make([]LogOp, 0, n)
	for i := range l.Runs {
		ops = append(ops, l.Runs[i].Ops...)
	}
	return ops
}

// Patch is the ops of a change log that fall on one base chunk, in order.
type Patch []LogOp

// Effective returns the rows and bytes of a base chunk of rows rows and
// size bytes with p applied, checking that p fits the chunk (ErrDamaged).
func (p Patch) Effective(index, rows, size uint64) (uint64, uint64, error) {
	baseRows := rows
	for i := range p {
		op := &p[i]
		switch {
		case op.Kind == LogInsert && op.Row > baseRows,
			op.Kind != LogInsert && op.Row >= baseRows,
			op.Kind == LogInsert && op.Row == 0 && index > 0:
			return 0, 0, fmt.Errorf("%w: change log op %d at row %d of chunk %d, which has %d rows", ErrDamaged, op.Kind, op.Row, index, baseRows)
		}
		if op.Kind != LogInsert {
			if op.OldLen+1 > size {
				return 0, 0, fmt.Errorf("%w: change log removes %d bytes from chunk %d of %d bytes", ErrDamaged, op.OldLen+1, index, size)
			}
			rows--
			size -= op.OldLen + 1
		}
		if op.Kind != LogDelete {
			rows++
			size += uint64(len(op.Line)) + 1
		}
	}
	return rows, size, nil
}

// Apply returns the rows of base (COPY lines, each ending in a newline)
// with p applied, in new memory. It fails with ErrDamaged when an op does
// not fit base.
func (p Patch) Apply(base []byte) ([]byte, error) {
	out := make([]byte, 0, len(base)+p.grow())
	var row uint64
	i := 0
	rest := base
	for {
		for i < len(p) && p[i].Row == row && p[i].Kind == LogInsert {
			out = append(append(out, p[i].Line...), '\n')
			i++
		}
		if len(rest) == 0 {
			break
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return nil, fmt.Errorf("%w: chunk does not end with a newline", ErrDamaged)
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		if i < len(p) && p[i].Row == row {
			op := &p[i]
			if op.OldLen != uint64(len(line)) {
				return nil, fmt.Errorf("%w: change log says row %d has %d bytes, the chunk's has %d", ErrDamaged, row, op.OldLen, len(line))
			}
			if op.Kind == LogReplace {
				out = append(append(out, op.Line...), '\n')
			}
			i++
		} else {
			out = append(append(out, line...), '\n')
		}
		row++
	}
	if i < len(p) {
		return nil, fmt.Errorf("%w: change log op at row %d of a chunk of %d rows", ErrDamaged, p[i].Row, row)
	}
	return out, nil
}

func (p Patch) grow() int {
	n := 0
	for i := range p {
		n += len(p[i].Line) + 1
	}
	return n
}
