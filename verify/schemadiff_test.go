package verify

import (
	"strings"
	"testing"

	"strata/dbexport"
)

func TestCompareSchema(t *testing.T) {
	base := func() *dbexport.Schema {
		return &dbexport.Schema{
			Engine: "postgres", Database: "app", ServerVersion: "15", Warnings: []string{"w"},
			Tables: []*dbexport.Table{
				{Schema: "public", Name: "a", Rows: 3, Consistent: true, DDL: "CREATE TABLE a (id int)",
					Columns: []dbexport.Column{{Name: "id", Type: "integer", Kind: "int"}, {Name: "v", Type: "text", Kind: "text"}},
					PostDDL: []string{"CREATE INDEX a_v ON a (v)", "ALTER TABLE a ADD PRIMARY KEY (id)"}},
				{Schema: "public", Name: "b", DDL: "CREATE TABLE b (id int)"},
			},
			Views:     []dbexport.View{{Schema: "public", Name: "v1", DDL: "CREATE VIEW v1 AS SELECT 1"}},
			Sequences: []dbexport.Sequence{{Schema: "public", Name: "s", DDL: "CREATE SEQUENCE s", Value: 42, Called: true}},
			Objects: []dbexport.Object{
				{Kind: dbexport.ObjectTrigger, Name: "f", Table: "a", DDL: "CREATE TRIGGER f ..."},
				{Kind: dbexport.ObjectFunction, Name: "f", DDL: "CREATE FUNCTION f() ..."},
			},
			Binlog: &dbexport.Binlog{Enabled: true, File: "bin.000001", Position: 4},
		}
	}
	tests := []struct {
		name    string
		change  func(s *dbexport.Schema)
		tables  []string
		table   []string // problems of table public.a
		objects []string
	}{
		{"identical but for the source's state", func(s *dbexport.Schema) {
			s.Database, s.ServerVersion, s.Warnings, s.NotCaptured = "strata_drill_1", "16", nil, []string{"x"}
			s.Binlog = &dbexport.Binlog{Enabled: true, File: "bin.000002", Position: 99}
			s.Tables[0].Rows, s.Tables[0].Consistent, s.Tables[0].Warning = 0, false, "x"
		}, nil, nil, nil},
		{"column type", func(s *dbexport.Schema) { s.Tables[0].Columns[1].Type = "varchar" }, nil,
			[]string{"columns v: type differs: snapshot text, restored varchar"}, nil},
		{"column missing", func(s *dbexport.Schema) { s.Tables[0].Columns = s.Tables[0].Columns[:1] }, nil,
			[]string{"columns: v is in the snapshot but was not restored"}, nil},
		{"columns reordered", func(s *dbexport.Schema) {
			c := s.Tables[0].Columns
			c[0], c[1] = c[1], c[0]
		}, nil, []string{"columns are in another order: snapshot id, v, restored v, id"}, nil},
		{"index missing", func(s *dbexport.Schema) { s.Tables[0].PostDDL = s.Tables[0].PostDDL[1:] }, nil,
			[]string{"post_ddl: not restored: CREATE INDEX a_v ON a (v)"}, nil},
		{"table missing", func(s *dbexport.Schema) { s.Tables = s.Tables[1:] }, nil,
			[]string{"not found in the restored database"}, nil},
		{"table added", func(s *dbexport.Schema) {
			s.Tables = append(s.Tables, &dbexport.Table{Schema: "public", Name: "c"})
		}, nil, nil, []string{"table public.c: restored, but not in the snapshot"}},
		{"view missing, sequence moved", func(s *dbexport.Schema) { s.Views = nil; s.Sequences[0].Value = 1 }, nil, nil,
			[]string{"sequences public.s: value differs: snapshot 42, restored 1", "views: public.v1 is in the snapshot but was not restored"}},
		{"routine changed, trigger of the same name kept", func(s *dbexport.Schema) {
			s.Objects[1].DDL = "CREATE FUNCTION f() other"
		}, nil, nil, []string{"objects function f: ddl differs: snapshot CREATE FUNCTION f() ..., restored CREATE FUNCTION f() other"}},
		{"trigger missing", func(s *dbexport.Schema) { s.Objects = s.Objects[1:] }, nil, nil,
			[]string{"objects: trigger f is in the snapshot but was not restored"}},
		{"partial restore: other objects not compared", func(s *dbexport.Schema) { s.Views = nil }, []string{"public.a"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restored := base()
			tt.change(restored)
			tables := tt.tables
			if tables == nil {
				tables = []string{"public.a", "public.b"}
			}
			d := CompareSchema(base(), restored, tables)
			if got, want := strings.Join(d.Tables["public.a"], "\n"), strings.Join(tt.table, "\n"); got != want {
				t.Errorf("table problems:\n%s\nwant:\n%s", got, want)
			}
			if got, want := strings.Join(d.Objects, "\n"), strings.Join(tt.objects, "\n"); got != want {
				t.Errorf("object problems:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
