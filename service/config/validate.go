package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"strata/service/schedule"
	"strata/verify"
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
	if c.Version != Version {
		v.errs = append(v.errs, c.fieldErr("version", fmt.Errorf("%w %d: this strata reads version %d", ErrVersion, c.Version, Version)))
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

// Warnings are what Validate accepts but advises against.
func (c *Config) Warnings() []string {
	var out []string
	if c.Repository.Password != "" {
		out = append(out, c.fieldErr("repository.password", errors.New("the password is written in the file: anyone who can read it can read the backups; use password_file (mode 0600), password_env or password_command")).Error())
	}
	for _, f := range c.secretFiles() {
		if fi, err := os.Stat(f.file); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, c.fieldErr(f.path, fmt.Errorf("%s is readable by others (mode %#o): chmod 600 %s", f.file, fi.Mode().Perm(), f.file)).Error())
		}
	}
	if c.Repository.passwordSources() == 0 {
		out = append(out, c.fieldErr("repository", errors.New("no password_file, password_env or password_command: the CLI falls back to STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND or a prompt, and the daemon needs one of them")).Error())
	}
	return out
}

type secretFile struct{ path, file string }

// secretFiles are the files the config reads secrets from, with their keys.
func (c *Config) secretFiles() []secretFile {
	var out []secretFile
	add := func(path, file string) {
		if file != "" {
			out = append(out, secretFile{path, file})
		}
	}
	add("repository.password_file", c.Repository.PasswordFile)
	for i, s := range c.Sources {
		add(fmt.Sprintf("sources[%d].password_file", i), s.PasswordFile)
	}
	if c.Drill != nil {
		add("drill.target_password_file", c.Drill.TargetPasswordFile)
	}
	for i, ch := range c.Notifications.Channels {
		add(fmt.Sprintf("notifications.channels[%d].url_file", i), ch.URLFile)
		if ch.SMTP != nil {
			add(fmt.Sprintf("notifications.channels[%d].smtp.password_file", i), ch.SMTP.PasswordFile)
		}
	}
	add("dashboard.token_file", c.Dashboard.TokenFile)
	return out
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
	case strings.HasPrefix(r.URL, "local:"), strings.HasPrefix(r.URL, "s3:"):
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
	if _, has := u.User.Password(); has {
		// Never echo the DSN: it holds the password.
		v.fail(path, "holds a password: remove it and set password_env or password_file")
	}
	if strings.Trim(u.Path, "/") == "" {
		v.fail(path, "names no database (%s://user@host:port/DB)", scheme)
	}
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
	for i, j := range v.c.Jobs {
		p := fmt.Sprintf("jobs[%d]", i)
		v.unique("job", p, j.Name, seen)
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

func (v *validator) retention() {
	r := v.c.Retention
	if r == nil {
		return
	}
	if _, err := r.Policy(); err != nil {
		v.fail("retention", "%v", err)
	}
	if r.Timezone != "" {
		if _, err := schedule.LoadZone(r.Timezone); err != nil {
			v.fail("retention.timezone", "%v", err)
		}
	}
	for _, f := range strings.Split(r.GroupBy, ",") {
		if f = strings.TrimSpace(f); r.GroupBy != "" && f != "host" && f != "source" && f != "tags" && f != "" {
			v.fail("retention.group_by", "%q: want fields of host, source and tags, like host,source", f)
		}
	}
	if r.Schedule != "" {
		v.scheduleOf("retention.schedule", r.Schedule, "retention.timezone", r.Timezone)
	}
}

func (v *validator) check() {
	c := v.c.Check
	if c == nil {
		return
	}
	if c.Schedule == "" {
		v.fail("check.schedule", "missing: when to run strata check, like @daily")
	} else {
		v.scheduleOf("check.schedule", c.Schedule, "check.timezone", c.Timezone)
	}
	if c.ReadDataSubset != "" {
		if c.ReadData {
			v.fail("check.read_data_subset", "set beside read_data: keep one")
		}
		if _, err := verify.ParseSubset(c.ReadDataSubset); err != nil {
			v.fail("check.read_data_subset", "%v", err)
		}
	}
	v.hooks("check.hooks", c.Hooks)
}

func (v *validator) drill(sources map[string]Source) {
	d := v.c.Drill
	if d == nil {
		return
	}
	if d.Schedule == "" {
		v.fail("drill.schedule", "missing: when to run strata verify drill, like @weekly")
	} else {
		v.scheduleOf("drill.schedule", d.Schedule, "drill.timezone", d.Timezone)
	}
	if d.Source != "" {
		s, ok := sources[d.Source]
		switch {
		case !ok:
			v.fail("drill.source", "%q is not a source's name (sources: %s)", d.Source, strings.Join(v.c.sourceNames(), ", "))
		case s.Type != SourcePostgres && s.Type != SourceMySQL && s.Type != SourceSQLite:
			v.fail("drill.source", "%q is a %s source: a drill restores a database source", d.Source, s.Type)
		}
	}
	if d.Target != "" {
		typ := map[string]string{"postgres": SourcePostgres, "postgresql": SourcePostgres, "mysql": SourceMySQL, "mariadb": SourceMySQL, "sqlite": SourceSQLite}[strings.SplitN(d.Target, ":", 2)[0]]
		if typ == "" {
			v.fail("drill.target", "want a scratch server DSN like postgres://postgres@127.0.0.1/scratch")
		} else {
			v.dsn("drill.target", typ, d.Target)
		}
	}
	if d.SameEngine && d.Target != "" {
		v.fail("drill.same_engine", "set beside target: keep one")
	}
	v.secretFrom("drill", "target_password", d.TargetPasswordEnv, d.TargetPasswordFile)
	v.hooks("drill.hooks", d.Hooks)
}

func (v *validator) hooks(path string, h Hooks) {
	for _, g := range []struct {
		name  string
		hooks []Hook
	}{{"before", h.Before}, {"after", h.After}, {"success", h.Success}, {"failure", h.Failure}} {
		for i, hk := range g.hooks {
			p := fmt.Sprintf("%s.%s[%d]", path, g.name, i)
			switch {
			case hk.Command != "" && hk.HTTP != nil:
				v.fail(p, "both command and http: a hook is one of them")
			case hk.Command == "" && hk.HTTP == nil:
				v.fail(p, "neither command nor http")
			case hk.HTTP != nil:
				v.urlFrom(p+".http", hk.HTTP.URL, hk.HTTP.URLEnv, hk.HTTP.URLFile)
				if m := hk.HTTP.Method; m != "" && !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "HEAD"}, m) {
					v.fail(p+".http.method", "%q: want GET, POST, PUT, PATCH or HEAD", m)
				}
			}
			if hk.ContinueOnError && g.name != "before" {
				v.fail(p+".continue_on_error", "only before hooks can stop a job")
			}
		}
	}
}

// urlFrom checks a url / url_env / url_file triple: exactly one.
func (v *validator) urlFrom(path, u, env, file string) {
	n := 0
	for _, s := range []string{u, env, file} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		v.fail(path, "want exactly one of url, url_env and url_file")
		return
	}
	v.envName(path+".url_env", env)
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			v.fail(path+".url", "want an http:// or https:// URL")
		}
	}
}

func (v *validator) notifications(jobs map[string]bool) {
	seen := map[string]bool{}
	for i, ch := range v.c.Notifications.Channels {
		p := fmt.Sprintf("notifications.channels[%d]", i)
		v.unique("channel", p, ch.Name, seen)
		switch ch.Type {
		case ChannelWebhook, ChannelSlack, ChannelDiscord, ChannelHealthchecks:
			v.urlFrom(p, ch.URL, ch.URLEnv, ch.URLFile)
			if ch.SMTP != nil {
				v.fail(p+".smtp", "is for smtp channels, and this one is %s", ch.Type)
			}
		case ChannelSMTP:
			if ch.URL != "" || ch.URLEnv != "" || ch.URLFile != "" {
				v.fail(p, "an smtp channel has no url: set smtp.host")
			}
			v.smtp(p+".smtp", ch.SMTP)
		case "":
			v.fail(p+".type", "missing: webhook, slack, discord, smtp or healthchecks")
		default:
			v.fail(p+".type", "%q: want webhook, slack, discord, smtp or healthchecks", ch.Type)
		}
		if len(ch.Headers) > 0 && ch.Type != ChannelWebhook {
			v.fail(p+".headers", "are for webhook channels")
		}
		if s := ch.MinSeverity; s != "" && s != SeverityInfo && s != SeverityWarning && s != SeverityCritical {
			v.fail(p+".min_severity", "%q: want info, warning or critical", s)
		}
		for k, e := range ch.Events {
			if !slices.Contains(Events, e) {
				v.fail(fmt.Sprintf("%s.events[%d]", p, k), "%q: want one of %s", e, strings.Join(Events, ", "))
			}
		}
		for k, j := range ch.Jobs {
			if !jobs[j] {
				v.fail(fmt.Sprintf("%s.jobs[%d]", p, k), "%q is not a job's name", j)
			}
		}
		if ch.Type == ChannelHealthchecks && len(ch.Jobs) != 1 {
			v.fail(p+".jobs", "a healthchecks check follows one job: name exactly one")
		}
	}
}

func (v *validator) smtp(path string, s *SMTP) {
	if s == nil {
		v.fail(path, "missing: host, from and to of the mail server")
		return
	}
	if s.Host == "" {
		v.fail(path+".host", "missing: the mail server")
	}
	if s.Port < 0 || s.Port > 65535 {
		v.fail(path+".port", "%d: want 1 to 65535", s.Port)
	}
	if s.From == "" {
		v.fail(path+".from", "missing: the sender's address")
	}
	if len(s.To) == 0 {
		v.fail(path+".to", "missing: the recipients' addresses")
	}
	if s.TLS != "" && s.TLS != "starttls" && s.TLS != "tls" && s.TLS != "none" {
		v.fail(path+".tls", "%q: want starttls, tls or none", s.TLS)
	}
	v.secretFrom(path, "password", s.PasswordEnv, s.PasswordFile)
}

func (v *validator) health() {
	h := v.c.Health
	for _, f := range []struct {
		key string
		n   int
	}{{"storage_warn_percent", h.StorageWarnPercent}, {"storage_critical_percent", h.StorageCriticalPercent}} {
		if f.n < 0 || f.n > 100 {
			v.fail("health."+f.key, "%d: want a percentage from 1 to 100", f.n)
		}
	}
	if h.StorageWarnPercent > 0 && h.StorageCriticalPercent > 0 && h.StorageWarnPercent >= h.StorageCriticalPercent {
		v.fail("health.storage_warn_percent", "%d is not below storage_critical_percent %d", h.StorageWarnPercent, h.StorageCriticalPercent)
	}
}

func (v *validator) dashboard() {
	d := v.c.Dashboard
	if d.Listen != "" {
		if _, _, err := net.SplitHostPort(d.Listen); err != nil {
			v.fail("dashboard.listen", "%q: want HOST:PORT, like 127.0.0.1:8420", d.Listen)
		}
	}
	v.secretFrom("dashboard", "token", d.TokenEnv, d.TokenFile)
}
