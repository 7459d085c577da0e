package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// kindOf maps a PostgreSQL type (a domain's base type) to its
// engine-neutral family. category is pg_type.typcategory.
func kindOf(typname, category string) string {
	switch typname {
	case "int2", "int4", "int8":
		return dbexport.KindInt
	case "float4", "float8":
		return dbexport.KindFloat
	case "numeric":
		return dbexport.KindNumeric
	case "bool":
		return dbexport.KindBool
	case "bytea":
		return dbexport.KindBytes
	case "date":
		return dbexport.KindDate
	case "time":
		return dbexport.KindTime
	case "timestamp":
		return dbexport.KindTimestamp
	case "timestamptz":
		return dbexport.KindTimestampTZ
	case "json", "jsonb":
		return dbexport.KindJSON
	case "uuid":
		return dbexport.KindUUID
	}
	switch category {
	case "S": // text, varchar, char, name, citext
		return dbexport.KindText
	case "A":
		return dbexport.KindArray
	}
	return dbexport.KindOther
}

// typeInfo answers whether ORDER BY accepts a type, the way PostgreSQL
// decides it: the type, or a type it is binary-coercible to, has a default
// btree operator class; domains ask their base type, arrays their
// element type (anyarray), enums and ranges always have one. Composite
// types are treated as unordered: their ordering fails at run time when a
// field has none.
type typeInfo struct {
	types   map[uint32]pgType
	btree   map[uint32]bool     // input types of default btree classes
	coerces map[uint32][]uint32 // binary-coercible casts
}

type pgType struct {
	typtype  string
	base     uint32
	elem     uint32
	category string
}

func loadTypeInfo(ctx context.Context, c *pgx.Conn) (*typeInfo, error) {
	ti := &typeInfo{types: map[uint32]pgType{}, btree: map[uint32]bool{}, coerces: map[uint32][]uint32{}}
	rows, err := c.Query(ctx, `SELECT oid, typtype::text, typbasetype, typelem, typcategory::text FROM pg_catalog.pg_type`)
	if err != nil {
		return nil, err
	}
	var oid uint32
	var t pgType
	_, err = pgx.ForEachRow(rows, []any{&oid, &t.typtype, &t.base, &t.elem, &t.category}, func() error {
		ti.types[oid] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = c.Query(ctx, `SELECT oc.opcintype FROM pg_catalog.pg_opclass oc
		JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod WHERE am.amname = 'btree' AND oc.opcdefault`)
	if err != nil {
		return nil, err
	}
	_, err = pgx.ForEachRow(rows, []any{&oid}, func() error {
		ti.btree[oid] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var target uint32
	rows, err = c.Query(ctx, `SELECT castsource, casttarget FROM pg_catalog.pg_cast WHERE castmethod = 'b'`)
	if err != nil {
		return nil, err
	}
	_, err = pgx.ForEachRow(rows, []any{&oid, &target}, func() error {
		ti.coerces[oid] = append(ti.coerces[oid], target)
		return nil
	})
	return ti, err
}

func (ti *typeInfo) orderable(oid uint32) bool {
	for depth := 0; depth < 10; depth++ {
		t, ok := ti.types[oid]
		if !ok {
			return false
		}
		switch {
		case t.typtype == "d":
			oid = t.base
			continue
		case ti.btree[oid]:
			return true
		case t.typtype == "e" || t.typtype == "r" || t.typtype == "m":
			return true
		case t.typtype == "c":
			return false
		}
		// As GetDefaultOpClass does: a class of a binary-coercible type
		// serves only when it is the only one (xml coerces to text and
		// bpchar, and has no ordering).
		n := 0
		for _, to := range ti.coerces[oid] {
			if ti.btree[to] {
				n++
			}
		}
		if n == 1 {
			return true
		}
		if t.category == "A" && t.elem != 0 {
			oid = t.elem
			continue
		}
		return false
	}
	return false
}
