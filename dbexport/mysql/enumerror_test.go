package mysql

import (
	"slices"
	"testing"
)

func TestEnumMembers(t *testing.T) {
	for _, tc := range []struct {
		typ      string
		members  []string
		ok       bool
		errValue bool
	}{
		{"enum('x','y')", []string{"x", "y"}, true, true},
		{"ENUM('','it''s')", []string{"", "it's"}, true, false},
		{"enum('a,b','(c)',' ')", []string{"a,b", "(c)", " "}, true, false},
		{"enum('x\\y')", []string{"x\\y"}, true, true},
		{"set('a','b')", nil, false, false},
		{"varchar(5)", nil, false, false},
		{"enum('x'", nil, false, false},
		{"enum(x)", nil, false, false},
	} {
		members, ok := enumMembers(tc.typ)
		if ok != tc.ok || !slices.Equal(members, tc.members) {
			t.Errorf("enumMembers(%q) = %q, %v; want %q, %v", tc.typ, members, ok, tc.members, tc.ok)
		}
		if got := hasErrorValue(tc.typ); got != tc.errValue {
			t.Errorf("hasErrorValue(%q) = %v, want %v", tc.typ, got, tc.errValue)
		}
	}
	for msg, col := range map[string]string{
		"Data truncated for column 'e' at row 1":       "e",
		"Data truncated for column 'it's' at row 12":   "it's",
		"Out of range value for column 'n' at row 1":   "n",
		"Incorrect string value: '\\xF0' for column x": "",
	} {
		if got := warningColumn(msg); got != col {
			t.Errorf("warningColumn(%q) = %q, want %q", msg, got, col)
		}
	}
}
