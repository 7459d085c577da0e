package mysql

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
)

func TestKindOf(t *testing.T) {
	for typ, want := range map[string]string{
		"tinyint(1)":          dbexport.KindBool,
		"tinyint(4)":          dbexport.KindInt,
		"tinyint unsigned":    dbexport.KindInt,
		"bigint(20) unsigned": dbexport.KindInt,
		"year(4)":             dbexport.KindInt,
		"bit(1)":              dbexport.KindBool,
		"bit(10)":             dbexport.KindInt,
		"float":               dbexport.KindFloat,
		"double":              dbexport.KindFloat,
		"decimal(30,10)":      dbexport.KindNumeric,
		"varchar(10)":         dbexport.KindText,
		"longtext":            dbexport.KindText,
		"enum('a','b')":       dbexport.KindText,
		"varbinary(16)":       dbexport.KindBytes,
		"mediumblob":          dbexport.KindBytes,
		"date":                dbexport.KindDate,
		"time(3)":             dbexport.KindTime,
		"datetime(6)":         dbexport.KindTimestamp,
		"timestamp":           dbexport.KindTimestampTZ,
		"json":                dbexport.KindJSON,
		"uuid":                dbexport.KindUUID,
		"point":               dbexport.KindOther,
		"inet6":               dbexport.KindOther,
	} {
		if got := kindOf(typ, false); got != want {
			t.Errorf("kindOf(%q) = %s, want %s", typ, got, want)
		}
	}
	if got := kindOf("longtext", true); got != dbexport.KindJSON {
		t.Errorf("MariaDB JSON column: %s", got)
	}
}

func TestFloatText(t *testing.T) {
	tests := []struct {
		v    float64
		bits int
		want string
	}{
		{0.1, 64, "0.1"},
		{123456789, 64, "123456789"},
		{1e14, 64, "100000000000000"},
		{1e15, 64, "1e+15"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "1e-05"},
		{1e300, 64, "1e+300"},
		{5e-324, 64, "5e-324"},
		{-1.5, 64, "-1.5"},
		{0, 64, "0"},
		{float64(float32(1.2345678)), 32, "1.2345678"},
		{float64(float32(123456)), 32, "123456"},
		{float64(float32(1234567)), 32, "1.234567e+06"},
		{math.MaxFloat32, 32, "3.4028235e+38"},
	}
	for _, tt := range tests {
		got := string(appendFloat(nil, tt.v, tt.bits))
		if got != tt.want {
			t.Errorf("appendFloat(%v, %d) = %q, want %q", tt.v, tt.bits, got, tt.want)
		}
		c := codecFloat64
		if tt.bits == 32 {
			c = codecFloat32
		}
		back, err := c.decodeValue([]byte(got))
		if err != nil || back.(float64) != tt.v {
			t.Errorf("%q reads back as %v (%v), want %v", got, back, err, tt.v)
		}
	}
}

func TestCodecValues(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"varchar(10)", nil, `\N`},
		{"varchar(10)", []byte{}, ``},
		{"text", []byte("a\tb\nc\\d\re"), `a\tb\nc\\d\re`},
		{"varbinary(4)", []byte{0, '\t', 0xff}, `\\x0009ff`},
		{"varbinary(4)", []byte{}, `\\x`},
		{"bigint", int64(math.MinInt64), "-9223372036854775808"},
		{"bigint unsigned", uint64(math.MaxUint64), "18446744073709551615"},
		{"bit(10)", uint64(1023), "1023"},
		{"float", float64(float32(0.1)), "0.1"},
		{"double", 0.1, "0.1"},
	}
	for _, tt := range tests {
		c := codecOf(tt.typ)
		got, err := c.appendValue(nil, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s %v: %q (%v), want %q", tt.typ, tt.v, got, err, tt.want)
		}
		if tt.v == nil {
			continue
		}
		raw, _, err := dbexport.Unescape(got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.decodeValue(raw)
		if err != nil {
			t.Errorf("%s %q: %v", tt.typ, got, err)
		}
		if b, ok := back.([]byte); ok && b == nil {
			t.Errorf("%s %q: decodes to a nil slice, which the driver sends as NULL", tt.typ, got)
		}
	}
	if _, err := codecOf("int").appendValue(nil, true); err == nil {
		t.Error("a bool from the driver: no error")
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := dbexport.DSN{Engine: dbexport.EngineMySQL, Host: "h", Port: "3306", User: "u", Database: "db"}
	withPW := d
	withPW.Password = "from-dsn"
	tests := []struct {
		name string
		d    dbexport.DSN
		env  string
		file string
		want string
	}{
		{"DSN first", withPW, "from-env", file, "from-dsn"},
		{"then MYSQL_PWD", d, "from-env", file, "from-env"},
		{"then the file", d, "", file, "from-file"},
		{"else none", d, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MYSQL_PWD", tt.env)
			got, err := Options{PasswordFile: tt.file}.password(tt.d)
			if err != nil || got != tt.want {
				t.Errorf("password %q (%v), want %q", got, err, tt.want)
			}
		})
	}
	t.Setenv("MYSQL_PWD", "")
	_, err := Options{PasswordFile: filepath.Join(dir, "missing")}.password(d)
	if err == nil || !strings.Contains(err.Error(), "password file") {
		t.Errorf("missing password file: %v", err)
	}
}

func TestConfigRejectsUnknownParams(t *testing.T) {
	d, err := dbexport.ParseDSN("mysql://u:secret-pw@h/db?tls=skip-verify&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	_, err = config(d, Options{})
	if err == nil || !strings.Contains(err.Error(), `"sslmode"`) || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("unknown parameter: %v", err)
	}
}

// TestPasswordNotInErrors fails a login and looks for the password in
// the error.
func TestPasswordNotInErrors(t *testing.T) {
	d := testServer(t)
	d.User, d.Password = "strata_no_such_user", "hunter2-secret"
	_, err := Open(t.Context(), d, Options{})
	if err == nil {
		t.Fatal("login with a wrong user and password succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), d.String()) {
		t.Errorf("error %q: want the DSN without its password", err)
	}
	_, err = OpenTarget(t.Context(), d, Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("OpenTarget error %q", err)
	}
}
