package dbexport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"strata/dbexport"
	"strata/repo"
)

// Every spelling of one database gives one source key; other databases
// give others; a key parses back to itself.
func TestSourceKey(t *testing.T) {
	groups := []struct {
		key   string
		forms []string
	}{
		{"postgres://localhost:5432/app", []string{
			"postgres://localhost/app",
			"postgres://postgres@127.0.0.1:5432/app?sslmode=disable",
			"postgresql://admin:s3cret@LOCALHOST:5432/app",
			"postgres://u:p%40ss@[::1]/app?sslmode=require&application_name=x&connect_timeout=5",
			"postgres://localhost/app?password=hunter2",
			"postgres://other@localhost:5432/postgres?dbname=app",
		}},
		{"postgres://db.example.com:5433/app", []string{
			"postgres://db.example.com:5433/app",
			"postgres://reader:pw@DB.example.com:5433/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
			"postgres://db.example.com/app?port=5433",
		}},
		{"postgres:///app?host=%2Fvar%2Frun%2Fpostgresql&port=5432", []string{
			"postgres://u@/app?host=/var/run/postgresql",
			"postgres://u:pw@localhost/app?host=/var/run/postgresql/&sslmode=disable",
		}},
		{"mysql://localhost:3306/shop", []string{
			"mysql://root@127.0.0.1/shop",
			"mysql://root:secret@localhost:3306/shop?tls=false",
			"mariadb://app:p%2Fw@LocalHost/shop?tls=skip-verify",
		}},
		{"mysql:///shop?socket=%2Frun%2Fmysqld%2Fmysqld.sock", []string{
			"mysql://root@localhost/shop?socket=/run/mysqld/mysqld.sock",
		}},
		{"sqlite:///srv/app.db", []string{
			"sqlite:///srv/app.db",
			"sqlite:///srv/./data/../app.db",
			"sqlite:////srv//app.db",
		}},
	}
	seen := map[string]string{}
	for _, g := range groups {
		for _, f := range append(g.forms, g.key) {
			d, err := dbexport.ParseDSN(f)
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", f, err)
			}
			if got := d.SourceKey(); got != g.key {
				t.Errorf("SourceKey(%q) = %q, want %q", f, got, g.key)
			}
			if strings.Contains(d.SourceKey(), "secret") || strings.Contains(d.SourceKey(), "hunter2") {
				t.Errorf("SourceKey(%q) holds the password", f)
			}
		}
		if prev, dup := seen[g.key]; dup {
			t.Errorf("%q and %q share a key", prev, g.key)
		}
		seen[g.key] = g.forms[0]
	}
	// Different databases, servers, ports and engines differ.
	distinct := []string{
		"postgres://localhost/app", "postgres://localhost/app2", "postgres://localhost:5433/app",
		"postgres://db1/app", "mysql://localhost:5432/app", "sqlite:///srv/app.db", "sqlite:///srv/app2.db",
	}
	keys := map[string]string{}
	for _, f := range distinct {
		d, err := dbexport.ParseDSN(f)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := keys[d.SourceKey()]; dup {
			t.Errorf("%q and %q map to one key %q", f, other, d.SourceKey())
		}
		keys[d.SourceKey()] = f
	}
}

// fakeLister holds snapshots in memory for PickSnapshot: plain data, no
// database involved.
type fakeLister []*repo.Snapshot

func (l fakeLister) Snapshots(context.Context) ([]*repo.Snapshot, error) { return l, nil }

func (l fakeLister) FindSnapshot(_ context.Context, ref string) (*repo.Snapshot, error) {
	for _, sn := range l {
		if strings.HasPrefix(sn.ID.String(), ref) {
			return sn, nil
		}
	}
	return nil, repo.ErrSnapshotNotFound
}

func TestPickSnapshot(t *testing.T) {
	base := time.Date(2025, 6, 17, 12, 0, 0, 0, time.UTC)
	mk := func(i int, source, host string) *repo.Snapshot {
		sn := &repo.Snapshot{Time: base.Add(time.Duration(i) * time.Hour), Source: source, Host: host}
		sn.ID[0], sn.ID[1] = 0xa0, byte(i)
		return sn
	}
	// Older snapshots recorded the DSN with user and parameters: they key
	// by it all the same.
	sns := fakeLister{
		mk(0, "postgres://postgres@127.0.0.1:5432/app?sslmode=disable", "h1"), // a0 00
		mk(1, "postgres://postgres@localhost:5432/app", "h2"),                 // a0 01
		mk(2, "postgres://postgres@localhost:5432/crm", "h1"),                 // a0 02
		mk(3, "stdin:dump.sql", "h1"),                                         // a0 03
		mk(4, "sqlite:rel.db", "h1"),                                          // a0 04: relative, from an old version
		mk(5, "postgres://db1/app", "h1"),                                     // a0 05
		mk(6, "postgres://db1/app", "h2"),                                     // a0 06: a server on the network is one database whatever machine saved it
	}
	target := func(s string) *dbexport.DSN {
		d, err := dbexport.ParseDSN(s)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	tests := []struct {
		name string
		req  dbexport.SnapshotRequest
		want int    // index into sns, or -1 for an error
		err  string // part of the error
	}{
		{"own source", dbexport.SnapshotRequest{Ref: "latest", LocalHost: "h2", Target: target("postgres://x:pw@localhost/app?sslmode=require")}, 1, ""},
		{"own source, this machine's", dbexport.SnapshotRequest{Ref: "latest", LocalHost: "h1", Target: target("postgres://localhost/app")}, 0, ""},
		{"local source of several machines", dbexport.SnapshotRequest{Ref: "latest", Target: target("postgres://localhost/app")}, -1, "come from h1, h2; say which with --host"},
		{"local source, other machines", dbexport.SnapshotRequest{Ref: "latest", LocalHost: "h3", Source: "postgres://localhost/app"}, -1, "--host"},
		{"local source of one machine", dbexport.SnapshotRequest{Ref: "latest", LocalHost: "h3", Target: target("postgres://localhost/crm")}, 2, ""},
		{"own source from a host", dbexport.SnapshotRequest{Ref: "latest", Host: "h1", Target: target("postgres://localhost/app")}, 0, ""},
		{"own source at", dbexport.SnapshotRequest{At: base.Add(30 * time.Minute), Host: "h1", Target: target("postgres://localhost/app")}, 0, ""},
		{"nothing before at", dbexport.SnapshotRequest{At: base.Add(-time.Hour), Host: "h1", Target: target("postgres://localhost/app")}, -1, "snapshot not found"},
		{"remote server from several machines", dbexport.SnapshotRequest{Ref: "latest", Target: target("postgres://db1/app")}, 6, ""},
		{"new database, several sources", dbexport.SnapshotRequest{Ref: "latest", Target: target("postgres://localhost/new")}, -1, "postgres://localhost:5432/crm"},
		{"new database, --source", dbexport.SnapshotRequest{Ref: "latest", Source: "postgres://localhost/crm", Target: target("postgres://localhost/new")}, 2, ""},
		{"other source by --source", dbexport.SnapshotRequest{Ref: "latest", Source: "postgres://localhost/crm", Target: target("postgres://localhost/app")}, -1, "--other-source"},
		{"other source by --source, allowed", dbexport.SnapshotRequest{Ref: "latest", Source: "postgres://localhost/crm", Target: target("postgres://localhost/app"), OtherSource: true}, 2, ""},
		{"other source by ID", dbexport.SnapshotRequest{Ref: "a002", Target: target("postgres://localhost/app")}, -1, "--other-source"},
		{"ID into a new database", dbexport.SnapshotRequest{Ref: "a002", Target: target("postgres://otherhost/app")}, 2, ""},
		{"stream by ID", dbexport.SnapshotRequest{Ref: "a003"}, -1, "holds no database tables"},
		{"ID against --source", dbexport.SnapshotRequest{Ref: "a002", Source: "postgres://localhost/app"}, -1, "not of --source"},
		{"no target, several sources", dbexport.SnapshotRequest{Ref: "latest"}, -1, "say which with --source"},
		{"unknown --source", dbexport.SnapshotRequest{Ref: "latest", Source: "mysql://localhost/app"}, -1, "none of --source mysql://localhost:3306/app"},
		{"relative path by its recorded name", dbexport.SnapshotRequest{Ref: "latest", Source: "sqlite:rel.db"}, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dbexport.PickSnapshot(context.Background(), sns, tt.req)
			if tt.want < 0 {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != sns[tt.want] {
				t.Fatalf("got %v, %v; want snapshot %d", got, err, tt.want)
			}
		})
	}
	// A password in --source never reaches a message.
	for _, req := range []dbexport.SnapshotRequest{
		{Ref: "latest", Source: "postgres://u:hunter2@localhost/nope"},
		{Ref: "a002", Source: "postgres://u:hunter2@localhost/app"},
	} {
		if _, err := dbexport.PickSnapshot(context.Background(), sns, req); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("--source with a password: %v", err)
		}
	}
	_, err := dbexport.PickSnapshot(context.Background(), sns, dbexport.SnapshotRequest{Ref: "latest"})
	if !errors.Is(err, dbexport.ErrSourceNotChosen) {
		t.Errorf("several sources: %v, want ErrSourceNotChosen", err)
	}
}
