package mysql

import (
	"reflect"
	"testing"
)

func TestPatternMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, db string
		fold, want  bool
	}{
		{`shop`, "shop", false, true},
		{`shop`, "Shop", false, false},
		{`shop`, "Shop", true, true},
		{`shop\_1`, "shop_1", false, true},
		{`shop\_1`, "shopx1", false, false},
		{`shop_1`, "shopx1", false, true},
		{`shop%`, "shop", false, true},
		{`shop%`, "shop_eu", false, true},
		{`shop%`, "sho", false, false},
		{`%`, "", false, true},
		{`s%p%u`, "shop_eu", false, true},
		{`s%p%x`, "shop_eu", false, false},
		{`\%`, "%", false, true},
		{`\%`, "x", false, false},
		{`a\`, `a\`, false, true}, // a trailing backslash is itself
		{`__`, "a", false, false},
	} {
		if got := patternMatches(tc.pattern, tc.db, tc.fold); got != tc.want {
			t.Errorf("patternMatches(%q, %q, %v) = %v, want %v", tc.pattern, tc.db, tc.fold, got, tc.want)
		}
	}
}

func TestSortKey(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    int
	}{
		{"", 0},
		{"shop", 128},
		{`shop\_1`, 128},
		{"shop_1", 5},
		{`shop\_%`, 7},
		{"%", 1},
	} {
		if got := sortKey(tc.pattern); got != tc.want {
			t.Errorf("sortKey(%q) = %d, want %d", tc.pattern, got, tc.want)
		}
	}
}

func TestEffectiveDBRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows []dbRow
		want []dbRow
	}{
		{"the database's own row hides the patterns",
			[]dbRow{{`shop\_%`, "INSERT", false}, {`shop\_1`, "SELECT", false}, {`shop_1`, "DELETE", false}},
			[]dbRow{{`shop\_1`, "SELECT", false}}},
		{"the longer prefix counts",
			[]dbRow{{`s%`, "DELETE", false}, {`shop\_%`, "INSERT", false}, {`shop\_%`, "SELECT", true}},
			[]dbRow{{`shop\_%`, "INSERT", false}, {`shop\_%`, "SELECT", true}}},
		{"patterns that tie give what both hold",
			[]dbRow{{`shop\__`, "SELECT", true}, {`shop\_%`, "SELECT", false}, {`shop\_%`, "INSERT", false}},
			[]dbRow{{`shop\_%`, "SELECT", false}}},
		{"no match", []dbRow{{`shop\_2`, "SELECT", false}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := effectiveDBRows(tc.rows, "shop_1", false); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
