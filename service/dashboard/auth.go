package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The errors of the token and the listen address.
var (
	// ErrNoToken: a listen address other than loopback without a
	// configured token.
	ErrNoToken = errors.New("the dashboard refuses to listen beyond this machine without a configured token")
	// ErrWeakToken: a token too short to withstand guessing.
	ErrWeakToken = errors.New("the dashboard token is too short")
)

// MinTokenLen is the shortest token accepted: 128 bits as hex.
const MinTokenLen = 32

// cookieName is the session cookie.
const cookieName = "strata_session"

// equal compares two secrets in constant time, their lengths included
// (both are hashed first).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// authKind says how a request proved it knows the token.
type authKind int

const (
	unauthenticated authKind = iota
	byBearer                 // Authorization: Bearer: a script, no CSRF risk
	byCookie                 // a session cookie: a browser, forms need the session's CSRF token
	limited                  // a wrong token too often from its address: 429
)

// authenticate says how r proved it knows the token, and its session
// when by cookie. A wrong bearer token counts against the client's
// address as a wrong sign-in does; an address over the limit has its
// wrong tokens refused with 429 until its window passes (retry says how
// long). The right token always passes: only failures are limited, so a
// local process that guesses cannot lock out Prometheus or the operator.
func (s *Server) authenticate(r *http.Request) (kind authKind, sess *session, retry time.Duration) {
	now := s.opts.Now()
	if h := r.Header.Get("Authorization"); h != "" {
		const prefix = "Bearer "
		if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) && equal(strings.TrimSpace(h[len(prefix):]), s.currentToken()) {
			return byBearer, nil, 0
		}
		addr := clientAddr(r.RemoteAddr)
		if blocked, wait := s.limiter.blocked(addr, now); blocked {
			return limited, nil, wait
		}
		s.limiter.fail(addr, now)
		return unauthenticated, nil, 0
	}
	if c, err := r.Cookie(cookieName); err == nil {
		if sess := s.sessions.get(c.Value, now); sess != nil {
			return byCookie, sess, 0
		}
	}
	return unauthenticated, nil, 0
}

// CheckListen refuses to listen on addr beyond loopback when the token
// was not configured (generated tokens are for this machine alone).
func CheckListen(addr string, configuredToken bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dashboard address %q: want HOST:PORT, such as 127.0.0.1:8420: %w", addr, err)
	}
	if IsLoopback(host) || configuredToken {
		return nil
	}
	return fmt.Errorf("%w: %s is not a loopback address; set a token (dashboard.token_env or token_file in strata.yaml, or STRATA_DASHBOARD_TOKEN) or listen on 127.0.0.1", ErrNoToken, addr)
}

// IsLoopback reports whether host (a name or an IP, without port) is
// this machine only. An empty host listens on every interface.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckToken refuses a token too short to withstand guessing; where
// names where it came from.
func CheckToken(token, where string) error {
	if len(token) < MinTokenLen {
		return fmt.Errorf("%w: the token from %s has %d characters, want at least %d (openssl rand -hex 32 makes one)", ErrWeakToken, where, len(token), MinTokenLen)
	}
	return nil
}

// ReadTokenFile reads a token file: one line, not readable by others.
func ReadTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("dashboard token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("dashboard token file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("dashboard token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if err := CheckToken(token, path); err != nil {
		return "", err
	}
	return token, nil
}

// LoadOrCreateTokenFile reads the token file at path, or creates it
// (0600, its folder 0700) with a new random token when it does not
// exist. created says which.
func LoadOrCreateTokenFile(path string) (token string, created bool, err error) {
	token, err = ReadTokenFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return token, false, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	token = hex.EncodeToString(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("dashboard token file: %w", err)
	}
	// O_EXCL: two servers starting at once do not overwrite each
	// other's token; the loser reads the winner's.
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("dashboard token file: %w", err)
	}
	_, werr := f.WriteString(token + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		// Link, not rename: a token file made meanwhile is kept.
		werr = os.Link(path+".tmp", path)
	}
	os.Remove(path + ".tmp")
	if errors.Is(werr, fs.ErrExist) {
		token, err := ReadTokenFile(path)
		return token, false, err
	}
	if werr != nil {
		return "", false, fmt.Errorf("dashboard token file %s: %w", path, werr)
	}
	return token, true, nil
}
