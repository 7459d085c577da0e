package workflow

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"strata/dbexport"
)

// ParseDSN parses a database DSN (dbexport.ParseDSN). A SQLite file is
// named by its absolute path, which is what names the source in
// snapshots (docs/design.md, "Source keys"). A password the DSN does not
// hold is password, when given (a configuration's password_env), else
// read from passwordFile, when given.
func ParseDSN(dsn, password, passwordFile string) (dbexport.DSN, error) {
	if dsn == "" {
		return dbexport.DSN{}, fmt.Errorf("no database: give --db DSN")
	}
	d, err := dbexport.ParseDSN(dsn)
	if err != nil {
		return d, err
	}
	if d.Engine == dbexport.EngineSQLite {
		if d.Path, err = filepath.Abs(d.Path); err != nil {
			return d, fmt.Errorf("sqlite database path: %w", err)
		}
	}
	if password != "" && d.Password == "" {
		d.Password = password
	}
	if passwordFile != "" && d.Password == "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return d, fmt.Errorf("reading database password file: %w", err)
		}
		d.Password = strings.TrimRight(string(b), "\r\n")
	}
	return d, nil
}
