package dbexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"strata/redact"
	"strata/repo"
)

// Errors of choosing a table snapshot (PickSnapshot). Both are usage
// errors: the command names what to add.
var (
	// ErrSourceNotChosen: the repository holds snapshots of several
	// databases and nothing says which one is meant.
	ErrSourceNotChosen = errors.New("several databases have snapshots in this repository")
	// ErrOtherSource: the snapshot is of another database than the
	// target, which has snapshots of its own.
	ErrOtherSource = errors.New("the snapshot is of another database")
	// ErrNoTables: the snapshot saved files or a stream, not a database.
	ErrNoTables = errors.New("the snapshot holds no database tables")
)

// SourceKey names the database d points at, the same however the DSN is
// written (docs/design.md, "Source keys"): the engine, the host in lower
// case (127.0.0.1 and ::1 as localhost), the port and the database name,
// or for SQLite the file's absolute, cleaned path. User, password and
// parameters are left out, so a password or ?sslmode=disable does not make
// another source. A key is itself a DSN that parses to the same key.
func (d DSN) SourceKey() string {
	if d.Engine == EngineSQLite {
		p := d.Path
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return "sqlite://" + filepath.Clean(p)
	}
	host, port, db := d.Host, d.Port, d.Database
	// Where the engine's driver takes the server or database from a
	// parameter, so does the key.
	switch d.Engine {
	case EnginePostgres:
		if h := d.Params.Get("host"); h != "" {
			host = h
		}
		if p := d.Params.Get("port"); p != "" {
			port = p
		}
		if n := d.Params.Get("dbname"); n != "" {
			db = n
		}
	case EngineMySQL:
		if s := d.Params.Get("socket"); s != "" {
			host, port = s, ""
		}
	}
	if strings.HasPrefix(host, "/") {
		// A Unix socket: the folder (PostgreSQL, with the port in the
		// socket's name) or the file (MySQL) names the server.
		q := url.Values{"socket": {filepath.Clean(host)}}
		if d.Engine == EnginePostgres {
			q = url.Values{"host": {filepath.Clean(host)}, "port": {port}}
		}
		return (&url.URL{Scheme: d.Engine, Path: "/" + db, RawQuery: q.Encode()}).String()
	}
	host = strings.ToLower(host)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		host = "localhost"
	}
	return (&url.URL{Scheme: d.Engine, Host: net.JoinHostPort(host, port), Path: "/" + db}).String()
}

// SnapshotSource returns the source key of a table snapshot, derived from
// the DSN it records (so snapshots written before keys existed have one
// too); ok is false for snapshots of files or streams. A SQLite path
// recorded relative (by old versions) keys as written, "sqlite:PATH", which
// no target's absolute path matches: such a snapshot is chosen with
// --source or by ID.
func SnapshotSource(sn *repo.Snapshot) (key string, ok bool) {
	d, err := ParseDSN(sn.Source)
	if err != nil {
		return "", false
	}
	if d.Engine == EngineSQLite && !filepath.IsAbs(d.Path) {
		return "sqlite:" + filepath.Clean(d.Path), true
	}
	return d.SourceKey(), true
}

// SourceName is the source key of a table snapshot, and the recorded
// source of any other (files:..., stdin:...): what groups snapshots of one
// source, as forget does.
func SourceName(sn *repo.Snapshot) string {
	if k, ok := SnapshotSource(sn); ok {
		return k
	}
	return sn.Source
}

// Sources returns the distinct source keys of the table snapshots in sns,
// sorted.
func Sources(sns []*repo.Snapshot) []string {
	seen := map[string]bool{}
	var keys []string
	for _, sn := range sns {
		if k, ok := SnapshotSource(sn); ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// MatchesSource reports whether snapshot sn is of the source that the
// user named: a DSN in any spelling (its source key), or the snapshot's
// recorded source as is (files:..., stdin:...).
func MatchesSource(sn *repo.Snapshot, named string) bool {
	if sn.Source == named {
		return true
	}
	k, ok := SnapshotSource(sn)
	if !ok {
		return false
	}
	d, err := ParseDSN(named)
	return err == nil && d.SourceKey() == k
}

// ShowSource is a source the user named, fit for messages: a DSN as its
// source key (no password), anything else with URL passwords masked.
func ShowSource(named string) string {
	if d, err := ParseDSN(named); err == nil {
		return d.SourceKey()
	}
	return redact.URL(named)
}

// FindParent returns the newest snapshot of database d taken on host, the
// parent of a new backup of it, or nil.
func FindParent(sns []*repo.Snapshot, host string, d DSN) *repo.Snapshot {
	key := d.SourceKey()
	for i := len(sns) - 1; i >= 0; i-- {
		if k, ok := SnapshotSource(sns[i]); ok && k == key && sns[i].Host == host {
			return sns[i]
		}
	}
	return nil
}

// SnapshotLister is what PickSnapshot reads of a repository.
type SnapshotLister interface {
	Snapshots(ctx context.Context) ([]*repo.Snapshot, error)
	FindSnapshot(ctx context.Context, ref string) (*repo.Snapshot, error)
}

// SnapshotRequest says which table snapshot a restore, drill or dump
// wants.
type SnapshotRequest struct {
	Ref    string    // "latest", an ID or a unique ID prefix; ignored when At is set
	At     time.Time // non-zero: the newest snapshot at or before At
	Host   string    // only snapshots taken on this host
	Source string    // the database whose snapshots are meant: a DSN (a password is ignored) or a recorded source
	// Target is the database written into; nil for dumps and drills.
	Target *DSN
	// OtherSource allows writing a snapshot of another database into a
	// Target that has snapshots of its own.
	OtherSource bool
	// SkipTags: latest and At pass over snapshots with any of these tags
	// (restore's pre-restore safety snapshots, which hold the state a
	// restore replaced), and they count as no database's own; an ID still
	// names them.
	SkipTags []string
}

// PickSnapshot resolves a request among the snapshots of one database
// (docs/design.md, "Source keys"): "latest" and At choose among the
// snapshots of req.Source if given, else of the target's own source when
// the repository holds snapshots of it, else of the only database the
// repository holds; with several and no choice it fails with
// ErrSourceNotChosen, listing them. A snapshot of another database than a
// target that has snapshots of its own is refused with ErrOtherSource
// unless req.OtherSource.
func PickSnapshot(ctx context.Context, l SnapshotLister, req SnapshotRequest) (*repo.Snapshot, error) {
	all, err := l.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	// Skipped snapshots neither make a source nor give a target snapshots
	// of its own: a database that strata only saved before restoring into
	// it (staging, refreshed from production) is a restore target.
	sns := make([]*repo.Snapshot, 0, len(all))
	for _, sn := range all {
		if !hasAnyTag(sn, req.SkipTags) {
			sns = append(sns, sn)
		}
	}
	sources := Sources(sns)
	targetKey, targetHas := "", false
	if req.Target != nil {
		targetKey = req.Target.SourceKey()
		targetHas = contains(sources, targetKey)
	}
	var picked *repo.Snapshot
	if req.At.IsZero() && req.Ref != "latest" {
		if picked, err = l.FindSnapshot(ctx, req.Ref); err != nil {
			return nil, err
		}
		if req.Source != "" && !MatchesSource(picked, req.Source) {
			return nil, fmt.Errorf("snapshot %s is of %s, not of --source %s", picked.ID.Short(), SourceName(picked), ShowSource(req.Source))
		}
	} else {
		match, err := chooseSource(sns, sources, req, targetKey, targetHas)
		if err != nil {
			return nil, err
		}
		for i := len(sns) - 1; i >= 0 && picked == nil; i-- {
			sn := sns[i]
			if match(sn) && (req.Host == "" || sn.Host == req.Host) && (req.At.IsZero() || !sn.Time.After(req.At)) {
				picked = sn
			}
		}
		if picked == nil {
			return nil, noSnapshot(req)
		}
	}
	key, ok := SnapshotSource(picked)
	if !ok {
		return nil, fmt.Errorf("%w: snapshot %s saved %s; give a snapshot of a database", ErrNoTables, picked.ID.Short(), picked.Source)
	}
	if targetHas && key != targetKey && !req.OtherSource {
		return nil, fmt.Errorf("%w: snapshot %s is of %s, but %s has snapshots of its own in this repository; "+
			"to overwrite it with another database's rows, add --other-source", ErrOtherSource, picked.ID.Short(), key, targetKey)
	}
	return picked, nil
}

// chooseSource returns which snapshots "latest" and At choose among.
func chooseSource(sns []*repo.Snapshot, sources []string, req SnapshotRequest, targetKey string, targetHas bool) (func(*repo.Snapshot) bool, error) {
	if req.Source != "" {
		for _, sn := range sns {
			if MatchesSource(sn, req.Source) {
				return func(sn *repo.Snapshot) bool { return MatchesSource(sn, req.Source) }, nil
			}
		}
		return nil, fmt.Errorf("%w: none of --source %s; the repository holds snapshots of these databases: %s", repo.ErrSnapshotNotFound, ShowSource(req.Source), listSources(sources))
	}
	key := ""
	switch {
	case targetHas:
		key = targetKey
	case len(sources) == 1:
		key = sources[0]
	case len(sources) == 0:
		return nil, fmt.Errorf("%w: the repository holds no database snapshots", repo.ErrSnapshotNotFound)
	default:
		return nil, fmt.Errorf("%w; say which with --source DSN: %s", ErrSourceNotChosen, listSources(sources))
	}
	return func(sn *repo.Snapshot) bool {
		k, ok := SnapshotSource(sn)
		return ok && k == key
	}, nil
}

func noSnapshot(req SnapshotRequest) error {
	var filters []string
	if !req.At.IsZero() {
		filters = append(filters, "at or before "+req.At.Format(time.RFC3339))
	}
	if req.Host != "" {
		filters = append(filters, "from host "+req.Host)
	}
	what := "no snapshot of that database"
	if len(filters) > 0 {
		what += " " + strings.Join(filters, " ")
	}
	return fmt.Errorf("%w: %s", repo.ErrSnapshotNotFound, what)
}

func hasAnyTag(sn *repo.Snapshot, tags []string) bool {
	for _, t := range tags {
		if sn.HasTag(t) {
			return true
		}
	}
	return false
}

func listSources(keys []string) string {
	if len(keys) == 0 {
		return "(none)"
	}
	return strings.Join(keys, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
