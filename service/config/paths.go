package config

import (
	"path/filepath"
	"strings"
)

// resolvePaths makes the file paths of the config absolute, relative to
// dir (the config's folder), as resticprofile does: a config then means
// the same whatever folder strata runs in. DSNs and commands are left as
// written.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if u := c.Repository.URL; strings.HasPrefix(u, "local:") {
		p := strings.TrimPrefix(u, "local:")
		abs(&p)
		c.Repository.URL = "local:" + p
	} else if !strings.HasPrefix(u, "s3:") {
		abs(&c.Repository.URL)
	}
	abs(&c.Repository.PasswordFile)
	abs(&c.StateDir)
	for i := range c.Sources {
		s := &c.Sources[i]
		abs(&s.PasswordFile)
		for k := range s.Paths {
			abs(&s.Paths[k])
		}
	}
	if d := c.Drill; d != nil {
		abs(&d.TargetPasswordFile)
	}
	hooks := []*Hooks{&c.Hooks}
	for i := range c.Jobs {
		hooks = append(hooks, &c.Jobs[i].Hooks)
	}
	if c.Check != nil {
		hooks = append(hooks, &c.Check.Hooks)
	}
	if c.Drill != nil {
		hooks = append(hooks, &c.Drill.Hooks)
	}
	for _, h := range hooks {
		for _, list := range [][]Hook{h.Before, h.After, h.Success, h.Failure} {
			for i := range list {
				if list[i].HTTP != nil {
					abs(&list[i].HTTP.URLFile)
				}
			}
		}
	}
	for i := range c.Notifications.Channels {
		ch := &c.Notifications.Channels[i]
		abs(&ch.URLFile)
		if ch.SMTP != nil {
			abs(&ch.SMTP.PasswordFile)
		}
	}
	abs(&c.Dashboard.TokenFile)
	abs(&c.Metrics.File)
}
