package engine

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/dbexport/sqlite"
)

// Options are what opening a database may take beyond its DSN; each
// engine uses the fields it knows and ignores the others.
type Options struct {
	// PasswordFile holds the password when the DSN holds none
	// (PostgreSQL, MySQL); PGPASSWORD, MYSQL_PWD and ~/.pgpass come after.
	PasswordFile string
	// Schemas limits a PostgreSQL source to these schemas; empty: all
	// but the system ones.
	Schemas []string
	// Jobs is the number of connections a source shares its snapshot
	// among (PostgreSQL, SQLite), or a restore loads tables on; 0 means
	// the engine's default (1, or one per CPU up to 4 for SQLite).
	Jobs int
	// PgDump and PgRestore name the pg_dump and pg_restore to run;
	// empty: those on PATH.
	PgDump, PgRestore string
	// NoOwner and NoPrivileges are pg_restore's --no-owner and
	// --no-privileges; NoDefiner restores MySQL objects without their
	// DEFINER.
	NoOwner, NoPrivileges, NoDefiner bool
	// Plan opens a target for a dry run: a SQLite file read-only, and
	// none created.
	Plan bool
	// Logger receives, at slog.LevelWarn, what a restore did not recreate
	// as the snapshot holds it; nil discards it.
	Logger *slog.Logger
}

// An Engine opens the databases of one engine.
type Engine struct {
	// Name is the engine, as dbexport.DSN.Engine names it.
	Name string
	// OpenSource opens one consistent read snapshot of the database.
	OpenSource func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Source, error)
	// OpenTarget opens a database to restore into.
	OpenTarget func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Target, error)
	// ExportJobs is how many tables a backup of src exports at once: one
	// per connection sharing the snapshot.
	ExportJobs func(src dbexport.Source, o Options) int
	// CreateDatabase and DropDatabase make and remove a scratch database
	// on the server a DSN names (drills); nil for an engine without
	// servers (SQLite).
	CreateDatabase, DropDatabase func(ctx context.Context, server dbexport.DSN, name string) error
	// OpenInspector opens a database for a drill's checks (keys, foreign
	// keys, CHECK constraints); nil for SQLite, whose target inspects
	// itself.
	OpenInspector func(d dbexport.DSN, o Options) (Inspector, error)
}

// Inspector is a drill's view of a restored database (verify.Inspector)
// that it closes when done.
type Inspector interface {
	// DB is the restored database.
	DB() *sql.DB
	// QuotedTableName is the quoted name a snapshot's table has there, as
	// a FROM item of its own rows (PostgreSQL: after ONLY, but for a
	// partitioned table).
	QuotedTableName(t *dbexport.Table) string
	// Quote quotes a column name.
	Quote(ident string) string
	Close() error
}

// Registry chooses an Engine by a DSN's engine.
type Registry struct{ engines map[string]Engine }

// New returns a registry of engines; names must be unique.
func New(engines ...Engine) (*Registry, error) {
	r := &Registry{engines: map[string]Engine{}}
	for _, e := range engines {
		if e.Name == "" || e.OpenSource == nil || e.OpenTarget == nil || e.ExportJobs == nil {
			return nil, fmt.Errorf("database engine %q: needs a name, OpenSource, OpenTarget and ExportJobs", e.Name)
		}
		if _, dup := r.engines[e.Name]; dup {
			return nil, fmt.Errorf("database engine %q registered twice", e.Name)
		}
		r.engines[e.Name] = e
	}
	return r, nil
}

// Default returns the registry of the engines strata ships: SQLite,
// PostgreSQL and MySQL/MariaDB.
func Default() *Registry {
	r := &Registry{engines: map[string]Engine{}}
	for _, e := range []Engine{SQLite(), Postgres(), MySQL()} {
		r.engines[e.Name] = e
	}
	return r
}

// Names returns the registered engines, sorted.
func (r *Registry) Names() []string {
	var names []string
	for n := range r.engines {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the engine of d.
func (r *Registry) Lookup(d dbexport.DSN) (Engine, error) {
	e, ok := r.engines[d.Engine]
	if !ok {
		return Engine{}, fmt.Errorf("%s databases are not supported (known: %s)", d.Engine, strings.Join(r.Names(), ", "))
	}
	return e, nil
}

// OpenSource opens one consistent read snapshot of the database d.
func (r *Registry) OpenSource(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Source, error) {
	e, err := r.Lookup(d)
	if err != nil {
		return nil, err
	}
	return e.OpenSource(ctx, d, o)
}

// OpenTarget opens the database d to restore into.
func (r *Registry) OpenTarget(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Target, error) {
	e, err := r.Lookup(d)
	if err != nil {
		return nil, err
	}
	return e.OpenTarget(ctx, d, o)
}

// SQLite is the engine of SQLite files.
func SQLite() Engine {
	return Engine{
		Name: dbexport.EngineSQLite,
		OpenSource: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Source, error) {
			return sqlite.Open(ctx, d, sqlite.Options{Jobs: sqliteJobs(o.Jobs)})
		},
		OpenTarget: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Target, error) {
			if o.Plan {
				return sqlite.OpenPlanTarget(ctx, d)
			}
			return sqlite.OpenTarget(ctx, d)
		},
		ExportJobs: func(src dbexport.Source, _ Options) int {
			if s, ok := src.(*sqlite.Source); ok {
				return s.Jobs() // fewer than asked when the database cannot share its snapshot
			}
			return 1
		},
	}
}

// sqliteJobs is --jobs for a SQLite file, by default one connection per
// CPU up to 4: a local file costs no server anything per connection, and
// beyond a few the chunking and compression of what they read need the
// CPUs more.
func sqliteJobs(jobs int) int {
	if jobs > 0 {
		return jobs
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// Postgres is the engine of PostgreSQL servers.
func Postgres() Engine {
	return Engine{
		Name: dbexport.EnginePostgres,
		OpenSource: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Source, error) {
			return postgres.Open(ctx, d, postgres.Options{Schemas: o.Schemas, Jobs: o.Jobs, PasswordFile: o.PasswordFile, PgDump: o.PgDump})
		},
		OpenTarget: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Target, error) {
			return postgres.OpenTarget(ctx, d, postgres.Options{
				PasswordFile: o.PasswordFile, Jobs: o.Jobs, NoOwner: o.NoOwner, NoPrivileges: o.NoPrivileges, Logger: o.Logger,
				PgRestore: o.PgRestore,
			})
		},
		ExportJobs:     func(_ dbexport.Source, o Options) int { return o.Jobs },
		CreateDatabase: postgres.CreateDatabase,
		DropDatabase:   postgres.DropDatabase,
		OpenInspector: func(d dbexport.DSN, o Options) (Inspector, error) {
			return postgres.OpenInspector(d, postgres.Options{PasswordFile: o.PasswordFile})
		},
	}
}

// MySQL is the engine of MySQL and MariaDB servers.
func MySQL() Engine {
	return Engine{
		Name: dbexport.EngineMySQL,
		OpenSource: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Source, error) {
			return mysql.Open(ctx, d, mysql.Options{PasswordFile: o.PasswordFile})
		},
		OpenTarget: func(ctx context.Context, d dbexport.DSN, o Options) (dbexport.Target, error) {
			return mysql.OpenTarget(ctx, d, mysql.Options{PasswordFile: o.PasswordFile, Jobs: o.Jobs, NoDefiner: o.NoDefiner, NoPrivileges: o.NoPrivileges, Logger: o.Logger})
		},
		ExportJobs:     func(dbexport.Source, Options) int { return 1 },
		CreateDatabase: mysql.CreateDatabase,
		DropDatabase:   mysql.DropDatabase,
		OpenInspector: func(d dbexport.DSN, o Options) (Inspector, error) {
			return mysql.OpenInspector(d, mysql.Options{PasswordFile: o.PasswordFile})
		},
	}
}
