package notify

import (
	"fmt"

	"strata/service/config"
)

// FromConfig returns the channels of strata.yaml's notifications section.
// Secrets named by variable or file are read at each send.
func FromConfig(c *config.Config, opts NewOptions) ([]Channel, error) {
	var out []Channel
	for _, ch := range c.Notifications.Channels {
		cfg := Config{Name: ch.Name, Type: ch.Type, URL: Secret{Value: ch.URL, Env: ch.URLEnv, File: ch.URLFile}}
		if ch.Type == config.ChannelHealthchecks {
			// A ping channel takes every run of its job whatever the
			// severity: pings are a dead man's switch.
			cfg.Filter.Jobs = ch.Jobs
		} else {
			f, err := filterOf(ch)
			if err != nil {
				return nil, err
			}
			cfg.Filter = f
		}
		if len(ch.Headers) > 0 {
			cfg.Headers = map[string]Secret{}
			for k, v := range ch.Headers {
				cfg.Headers[k] = Secret{Value: v}
			}
		}
		if s := ch.SMTP; s != nil {
			cfg.Email = &EmailConfig{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username,
				Password: Secret{Env: s.PasswordEnv, File: s.PasswordFile}, From: s.From, To: s.To}
		}
		c, err := New(cfg, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func filterOf(ch config.Channel) (Filter, error) {
	var f Filter
	if ch.MinSeverity != "" {
		s, err := ParseSeverity(ch.MinSeverity)
		if err != nil {
			return f, fmt.Errorf("notification channel %q: min_severity: %w", ch.Name, err)
		}
		f.MinSeverity = s
	}
	for _, e := range ch.Events {
		k, err := ParseKind(e)
		if err != nil {
			return f, fmt.Errorf("notification channel %q: events: %w", ch.Name, err)
		}
		f.Kinds = append(f.Kinds, k)
		// strata.yaml has no names for the runs of forget and prune: their
		// failures go with backup_failed, their successes with
		// backup_succeeded.
		switch k {
		case BackupFailed:
			f.Kinds = append(f.Kinds, JobFailed)
		case BackupSucceeded:
			f.Kinds = append(f.Kinds, JobSucceeded)
		}
	}
	f.Jobs = ch.Jobs
	return f, nil
}
