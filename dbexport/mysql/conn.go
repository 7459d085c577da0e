package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// Options configure connections to a server.
type Options struct {
	// PasswordFile holds the password (trailing newline ignored), used
	// when neither the DSN nor MYSQL_PWD gives one.
	PasswordFile string
	// Jobs is how many tables a restore loads at once, each on its own
	// connection (at least 1).
	Jobs int
	// NoDefiner: a restore creates views, triggers, routines and events
	// without their DEFINER, owned by the account that restores them.
	NoDefiner bool
	// NoPrivileges: a restore gives back none of the snapshot's grants
	// (as pg_restore --no-privileges).
	NoPrivileges bool
	// Logger, when set, is told at slog.LevelWarn what a restore did not
	// recreate as the snapshot has it (and the server's warnings about
	// it).
	Logger *slog.Logger
}

func (o Options) notify(msg string) {
	if o.Logger != nil {
		o.Logger.Warn(msg)
	}
}

// Errors returned by Restore, compared with errors.Is.
var (
	// ErrTableNotEmpty: a table to restore exists in the target and holds
	// rows, and replace was not set.
	ErrTableNotEmpty = errors.New("target table is not empty")
	// ErrCrossEngine: the snapshot comes from another engine.
	ErrCrossEngine = errors.New("snapshot is from another database engine")
)

// sqlMode is the session sql_mode of every connection. Fixing it makes
// SHOW CREATE output and value conversions independent of the server's
// setting: no ANSI_QUOTES (backticks quote names, as the DDL parser
// expects), strict (a value the target cannot hold fails the restore
// instead of being truncated), NO_AUTO_VALUE_ON_ZERO (an id 0 is restored
// as 0, not as the next auto-increment value), and no NO_ZERO_DATE, so
// zero dates that a server allowed are restored too.
const sqlMode = "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

// password returns the password: from the DSN, else MYSQL_PWD, else the
// password file.
func (o Options) password(d dbexport.DSN) (string, error) {
	if d.Password != "" {
		return d.Password, nil
	}
	if p := os.Getenv("MYSQL_PWD"); p != "" {
		return p, nil
	}
	if o.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(o.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("read MySQL password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// config builds the driver's configuration. The password goes into the
// Config, never into a DSN string that could end up in an error.
func config(d dbexport.DSN, o Options) (*mysql.Config, error) {
	if d.Engine != dbexport.EngineMySQL {
		return nil, fmt.Errorf("%s is not a MySQL DSN", d)
	}
	pw, err := o.password(d)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = d.User
	if cfg.User == "" {
		// As the mysql client does.
		if u, err := user.Current(); err == nil {
			cfg.User = u.Username
		}
	}
	cfg.Passwd = pw
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(d.Host, d.Port)
	cfg.DBName = d.Database
	cfg.MaxAllowedPacket = 0 // ask the server
	cfg.Timeout = 30 * time.Second
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return nil, err
	}
	for k, v := range d.Params {
		if len(v) == 0 {
			continue
		}
		switch val := v[len(v)-1]; k {
		case "socket":
			cfg.Net, cfg.Addr = "unix", val
		case "tls":
			switch val {
			case "true", "false", "skip-verify", "preferred":
				cfg.TLSConfig = val
			default:
				return nil, fmt.Errorf("%s: tls=%q is not one of true, false, skip-verify, preferred", d, val)
			}
		default:
			return nil, fmt.Errorf("%s: unknown parameter %q (MySQL DSNs take socket and tls)", d, k)
		}
	}
	cfg.Params = map[string]string{
		"time_zone":             "'+00:00'", // TIMESTAMP values as UTC text
		"sql_mode":              "'" + sqlMode + "'",
		"sql_quote_show_create": "1",
		// The export may wait on a slow repository between rows; the
		// server must not drop the connection meanwhile.
		"net_write_timeout": "3600",
		"net_read_timeout":  "3600",
		// Rows of a table without primary key are sorted by all
		// columns; compare them in full, not by their first KiB.
		"max_sort_length": "8388608",
	}
	return cfg, nil
}

// openDB returns a handle for d; it does not connect yet.
func openDB(d dbexport.DSN, o Options) (*sql.DB, error) {
	cfg, err := config(d, o)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql %s: %w", d, err)
	}
	return sql.OpenDB(c), nil
}

// CreateDatabase creates the database name (utf8mb4) on the server that
// server names; server's own database is only used to connect. The
// password comes from server or MYSQL_PWD.
func CreateDatabase(ctx context.Context, server dbexport.DSN, name string) error {
	return serverExec(ctx, server, name, "CREATE DATABASE "+quoteIdent(name)+" CHARACTER SET utf8mb4")
}

// DropDatabase drops the database name, if it exists, on the server that
// server names.
func DropDatabase(ctx context.Context, server dbexport.DSN, name string) error {
	return serverExec(ctx, server, name, "DROP DATABASE IF EXISTS "+quoteIdent(name))
}

func serverExec(ctx context.Context, server dbexport.DSN, name, stmt string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("database name %q: want 1 to 64 characters", name)
	}
	db, err := openDB(server, Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("mysql %s: %s: %w", server, stmt, err)
	}
	return nil
}
