package backend

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// A Scheme opens the storage of one kind of location, named in a
// repository URL by its scheme: "local:/srv/backup",
// "s3:https://host:9000/bucket/prefix". The location is the URL without
// "<scheme>:".
type Scheme struct {
	// Name is the scheme, lowercase letters and digits: "local", "s3".
	Name string
	// Open opens the storage of an existing repository; it fails with an
	// error wrapping ErrNotExist when there is none at location.
	Open func(ctx context.Context, location string, opts Options) (Storage, error)
	// Create makes the storage's container when it does not exist (a
	// folder, a bucket) and returns the storage, empty or not, for init
	// to write a new repository into; it fails with an error wrapping
	// ErrExists when a repository (a config) is there already.
	Create func(ctx context.Context, location string, opts Options) (Storage, error)
}

// Options are what a Scheme may need beyond the location.
type Options struct {
	// Getenv reads the environment (credentials, regions); nil reads the
	// process's own.
	Getenv func(key string) string
	// Logger receives notices a storage gives while it works (a retried
	// request) as records at slog.LevelWarn; nil drops them.
	Logger *slog.Logger
	// MaxRetryTime bounds how long remote storage retries a failing
	// request in total before it gives up; 0 lets the storage choose (the
	// retrying wrapper's default).
	MaxRetryTime time.Duration
	// ObjectLock asks Create to make the container with object lock
	// (an S3 bucket created with object lock) when it creates one.
	ObjectLock bool
	// CredentialsHint names where the credentials come from, for the
	// error of a storage that refuses them: a caller whose Getenv reads
	// them under other names says which. Empty: the storage names its own
	// sources (S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
	// STRATA_S3_*, ...).
	CredentialsHint string
}

// Env returns the value of the environment variable key.
func (o Options) Env(key string) string {
	if o.Getenv == nil {
		return os.Getenv(key)
	}
	return o.Getenv(key)
}

// Registry chooses a Scheme by a repository URL's scheme. Build one with
// NewRegistry where the program starts; it is not changed afterwards.
type Registry struct {
	schemes map[string]Scheme
}

// DefaultScheme is the scheme of a location given without one: a path.
const DefaultScheme = "local"

// NewRegistry returns a registry of schemes; names must be unique.
func NewRegistry(schemes ...Scheme) (*Registry, error) {
	r := &Registry{schemes: make(map[string]Scheme)}
	for _, s := range schemes {
		if !isSchemeName(s.Name) || s.Open == nil || s.Create == nil {
			return nil, fmt.Errorf("storage scheme %q: needs a lowercase name, Open and Create", s.Name)
		}
		if _, dup := r.schemes[s.Name]; dup {
			return nil, fmt.Errorf("storage scheme %q registered twice", s.Name)
		}
		r.schemes[s.Name] = s
	}
	return r, nil
}

// Schemes returns the registered scheme names, sorted.
func (r *Registry) Schemes() []string {
	var names []string
	for name := range r.schemes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Open opens the storage of the repository at repoURL.
func (r *Registry) Open(ctx context.Context, repoURL string, opts Options) (Storage, error) {
	s, location, err := r.lookup(repoURL)
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, location, opts)
}

// Create makes the container of a new repository at repoURL (see
// Scheme.Create).
func (r *Registry) Create(ctx context.Context, repoURL string, opts Options) (Storage, error) {
	s, location, err := r.lookup(repoURL)
	if err != nil {
		return nil, err
	}
	return s.Create(ctx, location, opts)
}

// lookup splits repoURL into its scheme and location. A URL whose text
// before the first colon is not a scheme name (a path: "/srv/backup",
// "./a:b", "C:\backup") is a location of DefaultScheme. A scheme name
// that is not registered is an error rather than a path, so that a
// mistyped "s4:..." does not become a folder of that name.
func (r *Registry) lookup(repoURL string) (Scheme, string, error) {
	if repoURL == "" {
		return Scheme{}, "", fmt.Errorf("empty repository location")
	}
	name, location, found := strings.Cut(repoURL, ":")
	if !found || len(name) < 2 || !isSchemeName(name) {
		name, location = DefaultScheme, repoURL
	}
	s, ok := r.schemes[name]
	if !ok {
		return Scheme{}, "", fmt.Errorf("repository %s: unknown storage scheme %q (known: %s; a folder whose name holds a colon is written ./%s or local:PATH)",
			Redact(repoURL), name, strings.Join(r.Schemes(), ", "), Redact(repoURL))
	}
	if location == "" {
		return Scheme{}, "", fmt.Errorf("repository %s: no location after %q", Redact(repoURL), name+":")
	}
	return s, location, nil
}

func isSchemeName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Redact returns a repository URL fit for messages and logs: a password
// in it ("https://user:secret@host") and the values of query parameters
// that may hold secrets are replaced by "xxxxx". Secrets belong in the
// environment, not the URL; this only keeps one that was put there out of
// messages.
func Redact(repoURL string) string {
	name, location, found := strings.Cut(repoURL, ":")
	if !found || !strings.Contains(location, "://") {
		return repoURL
	}
	u, err := url.Parse(location)
	if err != nil {
		// An unparsable URL may still hold a secret: keep only the
		// scheme and the host part's shape.
		return name + ":" + "(unparsable URL)"
	}
	q := u.Query()
	for key := range q {
		k := strings.ToLower(key)
		if strings.Contains(k, "secret") || strings.Contains(k, "key") || strings.Contains(k, "token") ||
			strings.Contains(k, "signature") || strings.Contains(k, "password") || strings.Contains(k, "credential") {
			q.Set(key, "xxxxx")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return name + ":" + u.Redacted()
}
