package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"strata/redact"
)

// ReadSecret reads a secret named by a *_env key (envName, looked up with
// getenv) or a *_file key (file; its trailing newline dropped). what names
// the key in errors, which never hold the secret. Neither set: "", nil.
func ReadSecret(what, envName, file string, getenv func(string) string) (string, error) {
	switch {
	case envName != "":
		v := getenv(envName)
		if v == "" {
			return "", fmt.Errorf("%s: environment variable %s is empty or not set", what, envName)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", what, file)
		}
		return v, nil
	}
	return "", nil
}

// Masked is the secret written where a value is masked.
const Masked = "***"

// Masked returns a deep copy of c with secrets replaced by "***": an
// inline repository password, passwords in URLs, the secret path and
// query of webhook URLs (Slack's, Discord's and healthchecks' URLs are
// their credentials), and header values that look like credentials.
// The names of variables and files secrets come from are kept.
func (c *Config) Masked() *Config {
	m := *c
	if m.Repository.Password != "" {
		m.Repository.Password = Masked
	}
	m.Repository.URL = maskURL(m.Repository.URL, false)
	m.Sources = append([]Source(nil), c.Sources...)
	for i := range m.Sources {
		// A DSN's query (sslpassword=) and a command's flags (-pSECRET,
		// curl -u user:pw) are masked as the audit trail masks them.
		m.Sources[i].DSN = redact.String(maskURL(m.Sources[i].DSN, false))
		m.Sources[i].Command = redact.String(m.Sources[i].Command)
	}
	m.Jobs = append([]Job(nil), c.Jobs...)
	for i := range m.Jobs {
		m.Jobs[i].Hooks = maskHooks(m.Jobs[i].Hooks)
	}
	m.Hooks = maskHooks(c.Hooks)
	if c.Check != nil {
		k := *c.Check
		k.Hooks = maskHooks(k.Hooks)
		m.Check = &k
	}
	if c.Drill != nil {
		d := *c.Drill
		d.Target = redact.String(maskURL(d.Target, false))
		d.Hooks = maskHooks(d.Hooks)
		m.Drill = &d
	}
	m.Notifications.Channels = append([]Channel(nil), c.Notifications.Channels...)
	for i := range m.Notifications.Channels {
		ch := &m.Notifications.Channels[i]
		ch.URL = maskURL(ch.URL, true)
		ch.Headers = maskHeaders(ch.Headers)
		if ch.SMTP != nil {
			s := *ch.SMTP
			ch.SMTP = &s
		}
	}
	return &m
}

func maskHooks(h Hooks) Hooks {
	out := Hooks{}
	for _, g := range []struct {
		src []Hook
		dst *[]Hook
	}{{h.Before, &out.Before}, {h.After, &out.After}, {h.Success, &out.Success}, {h.Failure, &out.Failure}} {
		for _, hk := range g.src {
			hk.Command = redact.String(hk.Command)
			if hk.HTTP != nil {
				x := *hk.HTTP
				x.URL = maskURL(x.URL, true)
				x.Headers = maskHeaders(x.Headers)
				hk.HTTP = &x
			}
			*g.dst = append(*g.dst, hk)
		}
	}
	return out
}

// maskURL masks a URL's password, and with path also its path and query
// (keeping the scheme and host, so the reader sees where it goes).
func maskURL(s string, path bool) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if path {
			return Masked
		}
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Masked)
	}
	if path && (u.Path != "" && u.Path != "/" || u.RawQuery != "") {
		return u.Scheme + "://" + u.Host + "/" + Masked
	}
	return strings.Replace(u.String(), url.QueryEscape(Masked), Masked, 1)
}

func maskHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "auth") || strings.Contains(lk, "token") || strings.Contains(lk, "key") || strings.Contains(lk, "secret") || strings.Contains(lk, "cookie") || strings.Contains(lk, "signature") {
			v = Masked
		}
		out[k] = v
	}
	return out
}
