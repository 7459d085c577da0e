package dbexport

import (
	"fmt"
	"net/url"
	"strings"

	"strata/redact"
)

// DSN names a database: sqlite:///abs/path.db, sqlite:relative.db,
// postgres://user@host:5432/db?sslmode=disable, mysql://user@host:3306/db.
// A password may be in the DSN; String never shows it, nor a parameter
// whose name is a secret name (redact.IsSecretName).
type DSN struct {
	Engine   string
	Path     string // sqlite: the file
	Host     string
	Port     string
	User     string
	Password string
	Database string
	Params   url.Values
}

// ParseDSN parses a DSN. Errors never repeat the DSN, which may hold a
// password.
func ParseDSN(s string) (DSN, error) {
	switch {
	case strings.HasPrefix(s, "sqlite://"):
		return DSN{Engine: EngineSQLite, Path: strings.TrimPrefix(s, "sqlite://")}, nil
	case strings.HasPrefix(s, "sqlite:"):
		return DSN{Engine: EngineSQLite, Path: strings.TrimPrefix(s, "sqlite:")}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return DSN{}, fmt.Errorf("invalid database DSN (want sqlite:///path, postgres://user@host/db or mysql://user@host/db)")
	}
	d := DSN{Host: u.Hostname(), Port: u.Port(), Database: strings.TrimPrefix(u.Path, "/"), Params: u.Query()}
	if u.User != nil {
		d.User = u.User.Username()
		d.Password, _ = u.User.Password()
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		d.Engine = EnginePostgres
		if d.Port == "" {
			d.Port = "5432"
		}
	case "mysql", "mariadb":
		d.Engine = EngineMySQL
		if d.Port == "" {
			d.Port = "3306"
		}
	default:
		return DSN{}, fmt.Errorf("unknown database scheme %q (want sqlite, postgres or mysql)", u.Scheme)
	}
	if d.Database == "" {
		return DSN{}, fmt.Errorf("database DSN names no database (postgres://user@host:5432/DB)")
	}
	if d.Host == "" {
		d.Host = "localhost"
	}
	return d, nil
}

// String is the DSN without its password, for snapshots, logs and errors.
func (d DSN) String() string {
	if d.Engine == EngineSQLite {
		return "sqlite://" + d.Path
	}
	u := url.URL{Scheme: d.Engine, Host: d.Host + ":" + d.Port, Path: "/" + d.Database}
	if d.User != "" {
		u.User = url.User(d.User)
	}
	q := url.Values{}
	for k, v := range d.Params {
		if !redact.IsSecretName(k) {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
