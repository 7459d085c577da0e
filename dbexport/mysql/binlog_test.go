package mysql

import (
	"reflect"
	"strings"
	"testing"

	"strata/dbexport"
)

func TestParseBinlogStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  map[string]string
		want    *dbexport.Binlog
		wantErr string
	}{
		{"mariadb", map[string]string{"Binlog_snapshot_file": "mariadb-bin.000003", "Binlog_snapshot_position": "1234"},
			&dbexport.Binlog{Enabled: true, File: "mariadb-bin.000003", Position: 1234}, ""},
		{"lower case names", map[string]string{"binlog_snapshot_file": "b.000001", "binlog_snapshot_position": "4"},
			&dbexport.Binlog{Enabled: true, File: "b.000001", Position: 4}, ""},
		{"mysql has none", map[string]string{},
			&dbexport.Binlog{Enabled: true, Note: noSnapshotPosition}, ""},
		{"empty file", map[string]string{"Binlog_snapshot_file": "", "Binlog_snapshot_position": "0"},
			&dbexport.Binlog{Enabled: true, Note: noSnapshotPosition}, ""},
		{"bad position", map[string]string{"Binlog_snapshot_file": "b.000001", "Binlog_snapshot_position": "-1"},
			nil, "is not a position"},
		{"path as file", map[string]string{"Binlog_snapshot_file": "../x", "Binlog_snapshot_position": "4"},
			nil, "not a binary log file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBinlogStatus(tc.status)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestBinlogString(t *testing.T) {
	for _, tc := range []struct {
		b    *dbexport.Binlog
		want string
	}{
		{nil, "not recorded"},
		{&dbexport.Binlog{}, "binary logging off"},
		{&dbexport.Binlog{Enabled: true, Note: "x"}, "unknown"},
		{&dbexport.Binlog{Enabled: true, File: "b.000002", Position: 385}, "b.000002:385"},
		{&dbexport.Binlog{Enabled: true, File: "b.000002", Position: 385, GTID: "0-1-7"}, "b.000002:385 (GTID 0-1-7)"},
	} {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.b, got, tc.want)
		}
	}
}
