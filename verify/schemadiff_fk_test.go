package verify

import (
	"reflect"
	"testing"

	"strata/dbexport"
)

// A snapshot written before foreign key actions were recorded compares
// equal to a newer one of the same table; a changed action is a change.
func TestSchemaChangesForeignKeyActions(t *testing.T) {
	table := func(onDelete, onUpdate string) *dbexport.Table {
		return &dbexport.Table{Name: "orders", ForeignKeys: []dbexport.ForeignKey{{
			Name: "orders_customer_fkey", Columns: []string{"customer_id"}, RefTable: "customers",
			RefColumns: []string{"id"}, OnDelete: onDelete, OnUpdate: onUpdate,
		}}}
	}
	for _, tc := range []struct {
		name    string
		a, b    *dbexport.Table
		changes int
	}{
		{"old snapshot, then new", table("", ""), table("CASCADE", "NO ACTION"), 0},
		{"new snapshot, then old", table("CASCADE", "NO ACTION"), table("", ""), 0},
		{"action changed", table("NO ACTION", "NO ACTION"), table("CASCADE", "NO ACTION"), 1},
		{"one recorded side", table("CASCADE", ""), table("SET NULL", "CASCADE"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a0 := tc.a.ForeignKeys[0]
			got := SchemaChanges(tc.a, tc.b, restoredWords)
			if len(got) != tc.changes {
				t.Errorf("changes %q, want %d", got, tc.changes)
			}
			if !reflect.DeepEqual(tc.a.ForeignKeys[0], a0) {
				t.Errorf("SchemaChanges modified its argument: %+v", tc.a.ForeignKeys[0])
			}
		})
	}
}
