package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Session and sign-in limits (docs/design.md, "Metrics and the
// dashboard").
const (
	// DefaultSessionLifetime is how long a sign-in lasts when
	// Options.SessionLifetime is 0.
	DefaultSessionLifetime = 12 * time.Hour
	// maxSessions bounds the sessions kept; signing in beyond it ends
	// the oldest. Only a holder of the token can make sessions.
	maxSessions = 1000
)

// session is one signed-in browser. Its ID is the cookie's value; the
// store knows it only by its SHA-256, so that a lookup's timing tells
// nothing of the IDs it holds.
type session struct {
	csrf    string // the forms' CSRF token
	expires time.Time
}

// sessionStore holds the sessions in memory: a restart of the server, a
// new token (Server.SetToken) and sign-out end them.
type sessionStore struct {
	mu       sync.Mutex
	byDigest map[[sha256.Size]byte]*session
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("dashboard: the system's random source failed: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// create starts a session that ends at expires and returns its ID.
func (st *sessionStore) create(now, expires time.Time) (id string, s *session) {
	id = randomHex(32)
	s = &session{csrf: randomHex(32), expires: expires}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byDigest == nil {
		st.byDigest = map[[sha256.Size]byte]*session{}
	}
	st.expire(now)
	for len(st.byDigest) >= maxSessions {
		var oldest [sha256.Size]byte
		var first *session
		for d, x := range st.byDigest {
			if first == nil || x.expires.Before(first.expires) {
				oldest, first = d, x
			}
		}
		delete(st.byDigest, oldest)
	}
	st.byDigest[sha256.Sum256([]byte(id))] = s
	return id, s
}

// get returns the live session of id, or nil.
func (st *sessionStore) get(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	d := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byDigest[d]
	if s == nil {
		return nil
	}
	if !now.Before(s.expires) {
		delete(st.byDigest, d)
		return nil
	}
	return s
}

// end ends the session of id (sign-out).
func (st *sessionStore) end(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byDigest, sha256.Sum256([]byte(id)))
}

// endAll ends every session (a new token).
func (st *sessionStore) endAll() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.byDigest = nil
}

// expire drops the sessions that ended. st.mu is held.
func (st *sessionStore) expire(now time.Time) {
	for d, s := range st.byDigest {
		if !now.Before(s.expires) {
			delete(st.byDigest, d)
		}
	}
}
