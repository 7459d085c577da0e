package s3

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"strata/repo/backend"
)

// Config says where a repository lives in a bucket and how to reach it.
// ParseURL makes one from a repository URL; its options come from the
// URL's query (docs/design.md, "The S3 backend", lists them).
type Config struct {
	Endpoint string // host[:port]
	Secure   bool   // https (http only for loopback and private endpoints)
	Bucket   string
	Prefix   string // "" or a path without leading or trailing slash

	// Region of the bucket; empty: STRATA_S3_REGION, AWS_REGION or
	// AWS_DEFAULT_REGION, else asked of the server.
	Region string
	// Addressing is "auto" (virtual-host for Amazon's endpoints,
	// path-style elsewhere), "path" or "virtual".
	Addressing string
	// Connections bounds the open connections to the endpoint, which
	// bounds the requests in flight.
	Connections int
	// ConnectTimeout bounds connecting (TCP and TLS).
	ConnectTimeout time.Duration
	// StallTimeout is how long a request may go without a byte moving
	// either way (or without an answer) before the watchdog cancels it;
	// the retrying wrapper then tries it again.
	StallTimeout time.Duration
	// StorageClass of each file type ("" for the bucket's default), from
	// storage-class (every type) and storage-class-<type> (one).
	StorageClass map[backend.FileType]string
	// ConditionalPut: when true, Save sends If-None-Match: * so that the
	// server refuses to replace a file; when false (for servers without
	// conditional writes) it asks first whether the file exists, which
	// leaves a window for two writers of one name (see Save).
	ConditionalPut bool
}

// Defaults of the options.
const (
	DefaultConnections    = 8
	DefaultConnectTimeout = 30 * time.Second
	DefaultStallTimeout   = 2 * time.Minute
)

// SchemeName is the scheme of S3 repository URLs:
// s3:https://host/bucket/prefix.
const SchemeName = "s3"

// ParseURL parses s3:http[s]://host[:port]/bucket[/prefix][?options]
// (the "s3:" is optional). Credentials never belong in the URL, which shows
// in process lists and messages; a URL with a user or password is refused.
func ParseURL(s string) (Config, error) {
	raw := strings.TrimPrefix(s, SchemeName+":")
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("invalid S3 repository URL: %w", redactErr(err))
	}
	cfg := Config{
		Endpoint:       u.Host,
		Addressing:     "auto",
		Connections:    DefaultConnections,
		ConnectTimeout: DefaultConnectTimeout,
		StallTimeout:   DefaultStallTimeout,
		StorageClass:   make(map[backend.FileType]string),
		ConditionalPut: true,
	}
	// Messages show the URL without its query and user, which might hold
	// a secret put there by mistake.
	shown := SchemeName + ":" + u.Scheme + "://" + u.Host + u.Path
	if u.User != nil {
		return Config{}, fmt.Errorf("invalid S3 repository URL: credentials do not belong in the URL (it shows in process lists and logs): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or STRATA_S3_ACCESS_KEY_ID and STRATA_S3_SECRET_ACCESS_KEY), or use ~/.aws/credentials")
	}
	switch u.Scheme {
	case "https":
		cfg.Secure = true
	case "http":
	default:
		return Config{}, fmt.Errorf("invalid S3 repository URL %s: want s3:https://host[:port]/bucket[/prefix] (or http:// for loopback and private endpoints)", shown)
	}
	if u.Host == "" || u.Opaque != "" {
		return Config{}, fmt.Errorf("invalid S3 repository URL %s: no host; want s3:https://host[:port]/bucket[/prefix]", shown)
	}
	path := strings.Trim(u.Path, "/")
	cfg.Bucket, cfg.Prefix, _ = strings.Cut(path, "/")
	if cfg.Bucket == "" {
		return Config{}, fmt.Errorf("invalid S3 repository URL %s: no bucket; want s3:https://host[:port]/bucket[/prefix]", shown)
	}
	if strings.Contains(cfg.Prefix, "//") {
		return Config{}, fmt.Errorf("invalid S3 repository URL %s: empty folder in the prefix %q", shown, cfg.Prefix)
	}
	if err := cfg.setOptions(u.Query()); err != nil {
		return Config{}, fmt.Errorf("S3 repository URL %s: %w", shown, err)
	}
	return cfg, nil
}

// setOptions reads the options of the URL's query.
func (cfg *Config) setOptions(q url.Values) error {
	for key, values := range q {
		v := values[len(values)-1]
		var err error
		switch {
		case key == "region":
			cfg.Region = v
		case key == "addressing":
			if !slices.Contains([]string{"auto", "path", "virtual"}, v) {
				err = fmt.Errorf("want auto, path or virtual")
			}
			cfg.Addressing = v
		case key == "connections":
			cfg.Connections, err = strconv.Atoi(v)
			if err == nil && (cfg.Connections < 1 || cfg.Connections > 1024) {
				err = fmt.Errorf("want 1 to 1024")
			}
		case key == "connect-timeout":
			cfg.ConnectTimeout, err = positiveDuration(v)
		case key == "stall-timeout":
			cfg.StallTimeout, err = positiveDuration(v)
		case key == "conditional-put":
			cfg.ConditionalPut, err = strconv.ParseBool(v)
		case key == "storage-class":
			for _, t := range backend.FileTypes {
				if _, set := q["storage-class-"+string(t)]; !set {
					cfg.StorageClass[t] = v
				}
			}
		case strings.HasPrefix(key, "storage-class-"):
			t := backend.FileType(strings.TrimPrefix(key, "storage-class-"))
			if !slices.Contains(backend.FileTypes, t) {
				err = fmt.Errorf("unknown file type %q (one of data, index, snapshots, keys, config, locks, policy, protect, journal, audit)", t)
			}
			cfg.StorageClass[t] = v
		default:
			return fmt.Errorf("unknown option %q (region, addressing, connections, connect-timeout, stall-timeout, conditional-put, storage-class, storage-class-<type>)", key)
		}
		if err != nil {
			return fmt.Errorf("option %s=%s: %w", key, v, err) // a known option: no secret
		}
	}
	return nil
}

func positiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("want a positive duration such as 30s or 2m")
	}
	return d, err
}

// redactErr drops the URL from a url.Parse error, whose message repeats
// the input: a mistyped URL could hold a secret.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// String is the repository's URL without its options, for messages.
func (cfg Config) String() string {
	scheme := "http"
	if cfg.Secure {
		scheme = "https"
	}
	s := SchemeName + ":" + scheme + "://" + cfg.Endpoint + "/" + cfg.Bucket
	if cfg.Prefix != "" {
		s += "/" + cfg.Prefix
	}
	return s
}
