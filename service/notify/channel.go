package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Channel is one place events go.
type Channel interface {
	// Name is the channel's name in the configuration; Type its kind
	// (webhook, slack, discord, email, healthchecks). Neither holds a
	// secret.
	Name() string
	Type() string
	// Send delivers one event, once. It returns an error that holds no
	// secret; a *SendError says whether trying again may help.
	Send(ctx context.Context, e Event) error
}

// The channel types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeDiscord = "discord"
	TypeEmail   = "email" // also "smtp", strata.yaml's name

	TypeHealthchecks = "healthchecks"
)

// Secret is a value that must not be logged: given in the configuration
// (Value), or read when needed from an environment variable (Env) or a
// file (File, its content less a trailing newline).
type Secret struct {
	Value string
	Env   string
	File  string
}

// IsZero says whether no source is given.
func (s Secret) IsZero() bool { return s.Value == "" && s.Env == "" && s.File == "" }

// Resolve returns the secret's value. The error names the variable or
// file, never the value.
func (s Secret) Resolve(getenv func(string) string) (string, error) {
	switch {
	case s.Value != "":
		return s.Value, nil
	case s.Env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or not set: set it, or give the secret another way", s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("reading the secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
		return v, nil
	}
	return "", errors.New("no value, environment variable or file given")
}

// Config describes one channel.
type Config struct {
	Name string
	Type string
	// URL is the webhook's URL (webhook, slack, discord) or the ping URL
	// (healthchecks: success is URL, start URL/start, failure URL/fail).
	URL Secret
	// StartURL, SuccessURL and FailURL replace the ping URLs that URL
	// implies, for monitors that are not healthchecks.io (healthchecks
	// only).
	StartURL, SuccessURL, FailURL Secret
	// Headers are added to a JSON webhook's requests (an Authorization
	// header, say); their values are secrets.
	Headers map[string]Secret
	// Email is the SMTP setup (email only).
	Email *EmailConfig
	// Filter chooses the events the channel takes.
	Filter Filter
}

// Filter chooses the events a channel takes.
type Filter struct {
	// MinSeverity is the mildest severity taken. Zero means warning, or
	// info when Kinds is given or for a ping channel.
	MinSeverity Severity
	// Kinds, when given, are the only kinds taken.
	Kinds []Kind
	// Jobs, when given, are the only jobs whose events are taken; events
	// of no job (health, storage) pass.
	Jobs []string
}

// Accepts says whether a channel of type typ with filter f takes e. A
// test event passes every filter.
func (f Filter) Accepts(typ string, e Event) bool {
	if e.Kind == Test {
		return true
	}
	if typ == TypeHealthchecks && !e.Kind.failure() && !e.Kind.success() && e.Kind != JobStarted {
		return false // only runs of jobs are pinged
	}
	if len(f.Jobs) > 0 && e.Job != "" && !slices.Contains(f.Jobs, e.Job) {
		return false
	}
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind) {
		return false
	}
	if e.Kind == JobStarted && typ != TypeHealthchecks && !slices.Contains(f.Kinds, JobStarted) {
		return false // a start is news to a monitor, not to a person
	}
	min := f.MinSeverity
	if min == 0 {
		min = Warning
		if len(f.Kinds) > 0 || typ == TypeHealthchecks {
			min = Info
		}
	}
	return e.Severity >= min
}

// NewOptions are what every channel shares.
type NewOptions struct {
	// HTTPClient sends webhooks and pings; nil means a client with a
	// 30-second timeout.
	HTTPClient *http.Client
	// Getenv reads the environment variables secrets name; nil means
	// os.Getenv.
	Getenv func(string) string
	// Hostname is the name a mail's HELO gives; "" means "localhost".
	Hostname string
}

// New returns the channel c describes. Secrets given by variable or file
// are read when an event is sent, so a rotated one is taken up.
func New(c Config, opts NewOptions) (Channel, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("notification channel of type %q has no name: give it one", c.Type)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	base := base{name: c.Name, typ: c.Type, filter: c.Filter, getenv: opts.Getenv}
	switch c.Type {
	case TypeWebhook, TypeSlack, TypeDiscord:
		if c.URL.IsZero() {
			return nil, fmt.Errorf("notification channel %q (%s): no url: give url, url_env or url_file", c.Name, c.Type)
		}
		if err := checkURL(c.URL); err != nil {
			return nil, fmt.Errorf("notification channel %q (%s): %w", c.Name, c.Type, err)
		}
		if len(c.Headers) > 0 && c.Type != TypeWebhook {
			return nil, fmt.Errorf("notification channel %q (%s): headers are for channels of type webhook", c.Name, c.Type)
		}
		return &webhook{base: base, url: c.URL, headers: c.Headers, client: opts.HTTPClient}, nil
	case TypeHealthchecks:
		p := &pinger{base: base, client: opts.HTTPClient, url: c.URL, start: c.StartURL, success: c.SuccessURL, fail: c.FailURL}
		if c.URL.IsZero() && (c.SuccessURL.IsZero() || c.FailURL.IsZero()) {
			return nil, fmt.Errorf("notification channel %q (healthchecks): give url (the check's ping URL), or success_url and fail_url", c.Name)
		}
		for _, u := range []Secret{c.URL, c.StartURL, c.SuccessURL, c.FailURL} {
			if err := checkURL(u); err != nil {
				return nil, fmt.Errorf("notification channel %q (healthchecks): %w", c.Name, err)
			}
		}
		return p, nil
	case TypeEmail, "smtp":
		base.typ = TypeEmail
		if c.Email == nil {
			return nil, fmt.Errorf("notification channel %q (email): no smtp settings", c.Name)
		}
		if err := c.Email.validate(); err != nil {
			return nil, fmt.Errorf("notification channel %q (email): %w", c.Name, err)
		}
		return &mailer{base: base, cfg: *c.Email, hostname: opts.Hostname}, nil
	case "":
		return nil, fmt.Errorf("notification channel %q has no type: use webhook, slack, discord, email or healthchecks", c.Name)
	}
	return nil, fmt.Errorf("notification channel %q: unknown type %q: use webhook, slack, discord, email or healthchecks", c.Name, c.Type)
}

// checkURL refuses a literal URL that is not http(s); the error never
// quotes it (the path of a Slack or Discord URL is its token).
func checkURL(s Secret) error {
	if s.Value == "" {
		return nil
	}
	u, err := url.Parse(s.Value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("the url is not an http:// or https:// URL")
	}
	return nil
}

// base holds what every channel has.
type base struct {
	name, typ string
	filter    Filter
	getenv    func(string) string
}

func (b *base) Name() string { return b.name }
func (b *base) Type() string { return b.typ }

// accepts is the channel's filter.
func (b *base) accepts(e Event) bool { return b.filter.Accepts(b.typ, e) }

// filtered is a channel with a filter.
type filtered interface{ accepts(Event) bool }
