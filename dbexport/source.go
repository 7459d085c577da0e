package dbexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
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
	// ErrHostNotChosen: a local database (SQLite file, server on
	// localhost) has snapshots from several machines, none of them this
	// one, and nothing says which machine's is meant.
	ErrHostNotChosen = errors.New("snapshots of a local database come from several machines")
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
	Ref  string    // "latest", "latest~N" (repo.LatestRef), an ID or a unique ID prefix; ignored when At is set
	At   time.Time // non-zero: the newest snapshot at or before At
	Host string    // only snapshots taken on this host
	// LocalHost is this machine's host name: of a local database's
	// snapshots from several hosts, latest and At take this one's.
	LocalHost string
	Source    string // the database whose snapshots are meant: a DSN (a password is ignored) or a recorded source
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
	sns := withoutTags(all, req.SkipTags)
	sources := Sources(sns)
	targetKey, targetHas := "", false
	if req.Target != nil {
		targetKey, targetHas = ownSource(*req.Target, sources)
	}
	var picked *repo.Snapshot
	back, latest, err := repo.LatestRef(req.Ref)
	if err != nil && req.At.IsZero() {
		return nil, err
	}
	if req.At.IsZero() && !latest {
		if picked, err = l.FindSnapshot(ctx, req.Ref); err != nil {
			return nil, err
		}
		if req.Source != "" && !MatchesSource(picked, req.Source) {
			return nil, fmt.Errorf("snapshot %s is of %s, not of --source %s", picked.ID.Short(), SourceName(picked), ShowSource(req.Source))
		}
	} else {
		own, err := sourceSnapshots(sns, sources, req, targetKey, targetHas)
		if err != nil {
			return nil, err
		}
		if req.At.IsZero() && back > 0 {
			if picked, err = repo.BeforeLatest(own, back, req.Ref, "of "+sourcesWord(own, req)); err != nil {
				return nil, err
			}
		}
		for i := len(own) - 1; i >= 0 && picked == nil; i-- {
			if req.At.IsZero() || !own[i].Time.After(req.At) {
				picked = own[i]
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

// sourcesWord names the database (and host) of snapshots own, for
// errors: "postgres://localhost:5432/app from host db1".
func sourcesWord(own []*repo.Snapshot, req SnapshotRequest) string {
	if len(own) == 0 {
		return ShowSource(req.Source)
	}
	return SourceName(own[0]) + " from host " + own[0].Host
}

// SourceSnapshots returns, oldest first, the snapshots of the database
// that latest and At choose among for req (as PickSnapshot chooses: of
// req.Source, else of the only database the repository holds, from
// req.Host or the machine chooseHost settles on), passing over those
// with req.SkipTags; req.Ref and req.At are ignored. With several
// databases and no choice it fails with ErrSourceNotChosen, listing them.
func SourceSnapshots(ctx context.Context, l SnapshotLister, req SnapshotRequest) ([]*repo.Snapshot, error) {
	all, err := l.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	sns := withoutTags(all, req.SkipTags)
	return sourceSnapshots(sns, Sources(sns), req, "", false)
}

// withoutTags returns the snapshots of all that have none of tags.
func withoutTags(all []*repo.Snapshot, tags []string) []*repo.Snapshot {
	sns := make([]*repo.Snapshot, 0, len(all))
	for _, sn := range all {
		if !hasAnyTag(sn, tags) {
			sns = append(sns, sn)
		}
	}
	return sns
}

// sourceSnapshots returns the snapshots among sns, oldest first, of the
// source and host that latest and At choose among.
func sourceSnapshots(sns []*repo.Snapshot, sources []string, req SnapshotRequest, targetKey string, targetHas bool) ([]*repo.Snapshot, error) {
	match, err := chooseSource(sns, sources, req, targetKey, targetHas)
	if err != nil {
		return nil, err
	}
	host, err := chooseHost(sns, match, req)
	if err != nil {
		return nil, err
	}
	var own []*repo.Snapshot
	for _, sn := range sns {
		if match(sn) && (host == "" || sn.Host == host) {
			own = append(own, sn)
		}
	}
	return own, nil
}

// ownSource returns the source key, among sources, of the database
// target names, and whether it is there: the target's own key, or for a
// SQLite file the key of a recorded path that is the same file (a
// symlink, a hard link or another mount of it, as os.SameFile tells), so
// that another path to a database does not pass for a new database.
func ownSource(target DSN, sources []string) (string, bool) {
	key := target.SourceKey()
	if contains(sources, key) || target.Engine != EngineSQLite {
		return key, contains(sources, key)
	}
	fi, err := os.Stat(target.Path)
	if err != nil {
		return key, false
	}
	for _, s := range sources {
		d, err := ParseDSN(s)
		if err != nil || d.Engine != EngineSQLite {
			continue
		}
		if si, err := os.Stat(d.Path); err == nil && os.SameFile(fi, si) {
			return s, true
		}
	}
	return key, false
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

// chooseHost returns the host whose snapshots "latest" and At choose
// among: --host if given. A local database (a SQLite file, a server on
// localhost or a Unix socket) is another database on each machine that
// has one under that name, so when its snapshots come from several hosts
// it is this machine's (req.LocalHost) if it has any, else --host must say
// which. One host is taken as it is: a restore on a new machine after the
// old one is lost.
func chooseHost(sns []*repo.Snapshot, match func(*repo.Snapshot) bool, req SnapshotRequest) (string, error) {
	if req.Host != "" {
		return req.Host, nil
	}
	seen := map[string]bool{}
	var hosts []string
	key := ""
	for _, sn := range sns {
		k, ok := SnapshotSource(sn)
		if !ok || !match(sn) || !localKey(k) {
			continue
		}
		key = k
		if !seen[sn.Host] {
			seen[sn.Host] = true
			hosts = append(hosts, sn.Host)
		}
	}
	switch {
	case len(hosts) < 2:
		return "", nil
	case req.LocalHost != "" && seen[req.LocalHost]:
		return req.LocalHost, nil
	}
	sort.Strings(hosts)
	return "", fmt.Errorf("%w: %s is a file or server local to each machine, and the snapshots of it come from %s; say which with --host",
		ErrHostNotChosen, key, strings.Join(hosts, ", "))
}

// localKey reports whether a source key names a database only together
// with the machine: a SQLite file, or a server on localhost or a socket.
func localKey(key string) bool {
	d, err := ParseDSN(key)
	return err == nil && (d.Engine == EngineSQLite || d.Host == "localhost" || d.Params.Get("host") != "" || d.Params.Get("socket") != "")
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
