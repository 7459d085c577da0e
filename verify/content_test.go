package verify

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"strata/dbexport"
)

func TestCompareRows(t *testing.T) {
	tb := &dbexport.Table{Name: "t", PrimaryKey: []string{"id"},
		Columns: []dbexport.Column{{Name: "id"}, {Name: "v"}, {Name: "w"}}}
	writer := func(s string) func(context.Context, io.Writer) error {
		return func(_ context.Context, w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	tests := []struct {
		name, saved, restored, want string
	}{
		{"same", "1\ta\tb\n2\tc\td\n", "1\ta\tb\n2\tc\td\n", ""},
		{"both empty", "", "", ""},
		{"value", "1\ta\tb\n2\tc\td\n", "1\ta\tb\n2\tc\tD\n", "content differs: 1 of 2 rows in key order (first: row 2 (key id=2) differs in column w)"},
		{"row lost", "1\ta\tb\n2\tc\td\n", "1\ta\tb\n", "content differs: 1 of 2 rows in key order (first: row 2 (key id=2) of the snapshot was not restored)"},
		{"row added", "1\ta\tb\n", "1\ta\tb\n3\tc\td\n", "content differs: 1 of 2 rows in key order (first: row 2 (key id=3) is not in the snapshot)"},
		{"shifted", "1\ta\tb\n2\tc\td\n3\te\tf\n", "2\tc\td\n3\te\tf\n", "content differs: 3 of 3 rows in key order (first: row 1 (key id=1) differs in column id, v, w)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := compareRows(context.Background(), writer(tt.saved), writer(tt.restored))
			if err != nil {
				t.Fatal(err)
			}
			got := d.problem(tb)
			if tt.want == "" && got != "" || tt.want != "" && !strings.HasPrefix(got, tt.want+"; restored SHA-256 ") {
				t.Errorf("problem = %q, want %q", got, tt.want)
			}
		})
	}

	// A failing side is an error, not a finding, and does not hang the
	// other side.
	boom := errors.New("boom")
	big := strings.Repeat("1\ta\tb\n", 100000)
	_, err := compareRows(context.Background(), writer(big), func(context.Context, io.Writer) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want boom", err)
	}
}
