package main

import (
	"strings"
	"testing"
)

// TestBackupRefusesBadLabels: labels a snapshot must not carry are
// refused with exit 1, a message naming the flag, and no snapshot.
func TestBackupRefusesBadLabels(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--stdin", "--tier", "Daily"}, "--tier"},
		{[]string{"backup", "--stdin", "--tier", "a/b"}, "--tier"},
		{[]string{"backup", "--stdin", "--tier", "hourly weekly"}, "--tier"},
		{[]string{"backup", "--stdin", "--tier="}, "--tier"},
		{[]string{"backup", "--stdin", "--host="}, "--host"},
		{[]string{"backup", "--stdin", "--host", " "}, "--host"},
		{[]string{"backup", "--stdin", "--host", "a\nb"}, "--host"},
		{[]string{"backup", "--stdin", "--stdin-name", "dir/app.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", "/app.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", "app\x00.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", "app\n.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", ""}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", "app\x1b[2J.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--stdin-name", "app\t.sql"}, "--stdin-name"},
		{[]string{"backup", "--stdin", "--tag="}, "--tag"},
		{[]string{"backup", "--stdin", "--tag", "app", "--tag", " "}, "--tag"},
		{[]string{"backup", "--stdin", "--tag", "a\nb"}, "--tag"},
		{[]string{"guard", "--db", "sqlite://" + path, "--tag", "x\ny", "--", "true"}, "--tag"},
		{[]string{"backup", "--db", "sqlite://" + path, "--jobs", "0"}, "--jobs"},
		{[]string{"backup", "--db", "sqlite://" + path, "--jobs=-2"}, "--jobs"},
		{[]string{"restore", "latest", "--db", "sqlite://" + path, "--jobs", "0"}, "--jobs"},
		{[]string{"restore", "latest", "--db", "sqlite://" + path, "--jobs=-3", "--dry-run"}, "--jobs"},
		{[]string{"guard", "--db", "sqlite://" + path, "--tier", "Pre Op", "--", "true"}, "--tier"},
	} {
		c.stdin = []byte("data\n")
		_, errOut := c.code(exitError, tt.args...)
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("strata %q: the refusal does not name %s:\n%s", tt.args, tt.want, errOut)
		}
	}
	if sns := c.snapshots(); len(sns) != 0 {
		t.Errorf("refused backups saved %d snapshots", len(sns))
	}
	// What is allowed still works.
	c.stdin = []byte("data\n")
	c.ok("backup", "--stdin", "--tier", "hourly_2-x", "--host", "db1", "--stdin-name", "app.sql")
	c.ok("backup", "--db", "sqlite://"+path, "--jobs", "1")
}
