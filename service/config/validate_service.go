package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"strata/service/schedule"
	"strata/verify"
)

// The checks of the sections around the jobs: retention, check, drill,
// hooks, notifications, health and dashboard.

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
		switch typ {
		case "":
			v.fail("drill.target", "want a scratch server DSN like postgres://postgres@127.0.0.1/scratch")
		case SourceSQLite:
			// A drill makes its scratch database on a server; SQLite's is
			// a temporary file it makes itself, with no target.
			v.fail("drill.target", "a drill restores into a temporary SQLite file by itself: leave target out, or name a PostgreSQL or MySQL server")
		default:
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
