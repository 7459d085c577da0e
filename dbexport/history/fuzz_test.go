package history

import (
	"testing"

	"strata/dbexport"
)

// FuzzFindRow: any chunk bytes give the row with the key, no row, or an
// error; never a panic, and a row found has one field per column whose
// values decode or fail with an error (history's decoding of stored rows).
func FuzzFindRow(f *testing.F) {
	for _, seed := range []string{
		"1\ta\t3\n2\tb\t4\n",
		"1\t\\N\t\\T3\n",
		"1\t\\\\x00ff\t3.0\n",
		"0001\tx\t1e+308\n",
		"1\ta\n",
		"1\ta\t3",
		"\n\n",
		"1\t\\q\t3\n",
	} {
		f.Add([]byte(seed), "1")
	}
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		for _, enc := range []int{dbexport.RowEncodingCopy, dbexport.RowEncodingTyped} {
			tab := &dbexport.Table{Name: "t", PrimaryKey: []string{"id"}, RowEncoding: enc, Columns: []dbexport.Column{
				{Name: "id", Kind: dbexport.KindInt}, {Name: "v", Kind: dbexport.KindText}, {Name: "n", Kind: dbexport.KindNumeric},
			}}
			row, err := findRow(data, tab, []string{key})
			if err != nil || row == nil {
				continue
			}
			if len(row) != len(tab.Columns) {
				t.Fatalf("row of %d fields for %d columns", len(row), len(tab.Columns))
			}
			for i, field := range row {
				if v, err := value(tab.Columns[i], enc == dbexport.RowEncodingTyped, field); err == nil && v.same == "" {
					t.Fatalf("field %q decodes to no JSON", field)
				}
			}
		}
	})
}
