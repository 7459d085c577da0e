package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"strata/service/schedule"
)

// namePattern is what names of sources, jobs and channels may hold: they
// become file names in the state folder and metric labels.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// tierPattern is what a free tier may be.
var tierPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// validator collects a config's problems.
type validator struct {
	c    *Config
	errs []error
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, v.c.fieldErr(path, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)))
}

// Validate checks every value and returns every problem found, each a
// *FieldError naming the file, line and key path, joined.
func (c *Config) Validate() error {
	v := &validator{c: c}
	if err := c.versionErr(); err != nil {
		v.errs = append(v.errs, err)
	}
	if _, err := schedule.LoadZone(c.Timezone); err != nil {
		v.fail("timezone", "%v", err)
	}
	v.repository()
	sources := v.sources()
	jobs := v.jobs(sources)
	v.retention()
	v.check()
	v.drill(sources)
	v.hooks("hooks", c.Hooks)
	v.notifications(jobs)
	v.health()
	v.dashboard()
	return errors.Join(v.errs...)
}

func (r Repository) passwordSources() int {
	n := 0
	for _, s := range []string{r.PasswordFile, r.PasswordEnv, r.PasswordCommand, r.Password} {
		if s != "" {
			n++
		}
	}
	return n
}

func (v *validator) repository() {
	r := v.c.Repository
	switch {
	case r.URL == "":
		v.fail("repository.url", "missing: the repository, like local:/srv/backup or s3:host/bucket/prefix")
	case strings.HasPrefix(r.URL, "s3:"):
		if s3URLHasUser(r.URL) {
			// Never echo the URL: it holds the secret.
			v.fail("repository.url", "credentials do not belong in the URL (it shows in process lists and logs): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or STRATA_S3_ACCESS_KEY_ID and STRATA_S3_SECRET_ACCESS_KEY), or use ~/.aws/credentials")
		}
	case strings.HasPrefix(r.URL, "local:"):
	default:
		if scheme, _, ok := strings.Cut(r.URL, ":"); ok && !strings.ContainsAny(scheme, "/.\\") {
			v.fail("repository.url", "%q: unknown scheme %q (want local:/path, a bare path, or s3:host/bucket)", r.URL, scheme)
		}
	}
	if r.passwordSources() > 1 {
		v.fail("repository", "more than one of password_file, password_env, password_command and password: keep one")
	}
	v.envName("repository.password_env", r.PasswordEnv)
}

var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) envName(path, name string) {
	if name != "" && !envPattern.MatchString(name) {
		v.fail(path, "%q is not an environment variable's name (want e.g. STRATA_PASSWORD)", name)
	}
}

// secretFrom checks a pair of *_env / *_file keys: at most one.
func (v *validator) secretFrom(path, prefix, env, file string) {
	v.envName(join(path, prefix+"_env"), env)
	if env != "" && file != "" {
		v.fail(path, "both %s_env and %s_file: keep one", prefix, prefix)
	}
}

func (v *validator) unique(kind, path, name string, seen map[string]bool) {
	switch {
	case name == "":
		v.fail(path+".name", "missing: every %s needs a name", kind)
	case !namePattern.MatchString(name):
		v.fail(path+".name", "%q: use letters, digits, '.', '_' and '-' (up to 64)", name)
	case seen[name]:
		v.fail(path+".name", "%s %q is named twice", kind, name)
	}
	seen[name] = true
}

func (v *validator) sources() map[string]Source {
	seen := map[string]bool{}
	out := map[string]Source{}
	for i, s := range v.c.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		v.unique("source", p, s.Name, seen)
		out[s.Name] = s
		v.secretFrom(p, "password", s.PasswordEnv, s.PasswordFile)
		isDB := s.Type == SourcePostgres || s.Type == SourceMySQL || s.Type == SourceSQLite
		switch s.Type {
		case SourcePostgres, SourceMySQL, SourceSQLite:
			v.dsn(p+".dsn", s.Type, s.DSN)
		case SourcePath:
			if len(s.Paths) == 0 {
				v.fail(p+".paths", "missing: a path source backs up the files and folders listed in paths")
			}
		case SourceCommand:
			if strings.TrimSpace(s.Command) == "" {
				v.fail(p+".command", "missing: a command source backs up the standard output of command")
			}
		case SourceStdin:
		case "":
			v.fail(p+".type", "missing: postgres, mysql, sqlite, path, command or stdin")
		default:
			v.fail(p+".type", "%q: want postgres, mysql, sqlite, path, command or stdin", s.Type)
		}
		notFor := func(key string, set bool, forWhat string) {
			if set {
				v.fail(p+"."+key, "is for %s sources, and this one is %s", forWhat, s.Type)
			}
		}
		notFor("dsn", !isDB && s.DSN != "", "database")
		notFor("tables", !isDB && len(s.Tables) > 0, "database")
		notFor("exclude_tables", !isDB && len(s.ExcludeTables) > 0, "database")
		notFor("schemas", s.Type != SourcePostgres && len(s.Schemas) > 0, "postgres")
		notFor("password_env", !isDB && s.PasswordEnv != "", "database")
		notFor("password_file", !isDB && s.PasswordFile != "", "database")
		notFor("paths", s.Type != SourcePath && len(s.Paths) > 0, "path")
		notFor("exclude", s.Type != SourcePath && len(s.Exclude) > 0, "path")
		notFor("command", s.Type != SourceCommand && s.Command != "", "command")
		notFor("stdin_name", s.Type != SourceCommand && s.Type != SourceStdin && s.StdinName != "", "command and stdin")
	}
	return out
}

func (v *validator) dsn(path, typ, dsn string) {
	if dsn == "" {
		v.fail(path, "missing: the %s database to back up", typ)
		return
	}
	schemes := map[string][]string{SourcePostgres: {"postgres", "postgresql"}, SourceMySQL: {"mysql", "mariadb"}, SourceSQLite: {"sqlite"}}[typ]
	scheme, _, _ := strings.Cut(dsn, ":")
	if !slices.Contains(schemes, scheme) {
		v.fail(path, "a %s DSN starts with %s: (like %s)", typ, schemes[0], map[string]string{SourcePostgres: "postgres://backup@db1/shop", SourceMySQL: "mysql://backup@db1/shop", SourceSQLite: "sqlite:///var/lib/app.db"}[typ])
		return
	}
	if typ == SourceSQLite {
		return
	}
	u, err := url.Parse(dsn)
	if err != nil {
		v.fail(path, "not a URL like %s://user@host/db", scheme)
		return
	}
	if _, has := u.User.Password(); has || queryHasPassword(u.RawQuery) {
		// Never echo the DSN: it holds the password.
		v.fail(path, "holds a password: remove it and set password_env or password_file")
	}
	if strings.Trim(u.Path, "/") == "" {
		v.fail(path, "names no database (%s://user@host:port/DB)", scheme)
	}
}

// s3URLHasUser reports whether an s3: URL carries user info (a key and
// secret) before its host, with or without http(s)://.
func s3URLHasUser(s string) bool {
	rest := strings.TrimPrefix(s, "s3:")
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.Contains(host, "@")
}

// queryHasPassword reports whether a DSN's query gives a password
// (?password=, which pgx and the MySQL driver read), whatever its case.
func queryHasPassword(rawQuery string) bool {
	q, _ := url.ParseQuery(rawQuery)
	for k := range q {
		if strings.EqualFold(k, "password") {
			return true
		}
	}
	return false
}

// scheduleOf parses a schedule key with the zone key beside it (or the
// file's), and refuses a CRON_TZ= prefix that disagrees with that key.
func (v *validator) scheduleOf(path, spec, zonePath, zone string) {
	if zone != "" {
		if _, err := schedule.LoadZone(zone); err != nil {
			v.fail(zonePath, "%v", err)
			return
		}
	}
	s, err := v.c.ParseSchedule(spec, zone)
	if err != nil {
		v.fail(path, "%v", err)
		return
	}
	if zone != "" && hasZonePrefix(spec) {
		if z, _ := schedule.LoadZone(zone); z.String() != s.Location().String() {
			v.fail(path, "its time zone %s disagrees with %s %q: keep one", s.Location(), zonePath, zone)
		}
	}
}

func hasZonePrefix(spec string) bool {
	spec = strings.TrimSpace(spec)
	return strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")
}

func (v *validator) jobs(sources map[string]Source) map[string]bool {
	seen := map[string]bool{}
	// The check, drill and retention sections are jobs named check,
	// drill and forget.
	sectionJobs := map[string]string{}
	if v.c.Check != nil {
		sectionJobs["check"] = "check"
	}
	if v.c.Drill != nil {
		sectionJobs["drill"] = "drill"
	}
	if v.c.Retention != nil {
		sectionJobs["forget"] = "retention"
	}
	for i, j := range v.c.Jobs {
		p := fmt.Sprintf("jobs[%d]", i)
		v.unique("job", p, j.Name, seen)
		if sec, ok := sectionJobs[j.Name]; ok {
			v.fail(p+".name", "%q is the name of the %s section's job: name this one otherwise", j.Name, sec)
		}
		switch _, ok := sources[j.Source]; {
		case j.Source == "":
			v.fail(p+".source", "missing: the name of the source the job backs up")
		case !ok:
			v.fail(p+".source", "%q is not a source's name (sources: %s)", j.Source, strings.Join(v.c.sourceNames(), ", "))
		}
		if j.Tier != "" && !tierPattern.MatchString(j.Tier) {
			v.fail(p+".tier", "%q: want hourly, daily, weekly, monthly, yearly or a word of a-z, 0-9, '_' and '-'", j.Tier)
		}
		if j.Schedule != "" {
			v.scheduleOf(p+".schedule", j.Schedule, p+".timezone", j.Timezone)
		} else if j.Timezone != "" {
			v.fail(p+".timezone", "set, but the job has no schedule")
		}
		for k, tag := range j.Tags {
			if tag == "" || strings.ContainsAny(tag, ",\n") {
				v.fail(fmt.Sprintf("%s.tags[%d]", p, k), "%q: a tag is a non-empty word without commas", tag)
			}
		}
		if j.Retry.Attempts < 0 || j.Retry.Attempts > 100 {
			v.fail(p+".retry.attempts", "%d: want 0 to 100", j.Retry.Attempts)
		}
		v.hooks(p+".hooks", j.Hooks)
	}
	return seen
}

func (c *Config) sourceNames() []string {
	var out []string
	for _, s := range c.Sources {
		out = append(out, s.Name)
	}
	return out
}
