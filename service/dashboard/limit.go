package dashboard

import (
	"net"
	"sync"
	"time"
)

// Sign-in limits: a client address that gave a wrong token
// MaxSignInFailures times within SignInWindow has its further wrong
// tokens refused (429, with Retry-After) until the window since its first
// failure has passed; the right token always passes, so failures from a
// shared address (127.0.0.1) cannot lock out its legitimate clients. The
// token has at least 128 bits, so guessing it is hopeless anyway; the
// limit keeps a guesser from trying at line rate and fills no log.
const (
	MaxSignInFailures = 5
	SignInWindow      = 15 * time.Minute
	// maxTracked bounds the addresses remembered; beyond it the oldest
	// are forgotten.
	maxTracked = 10000
)

// failures counts the wrong tokens of one client address.
type failures struct {
	n     int
	first time.Time
}

// signInLimiter counts wrong tokens per client address.
type signInLimiter struct {
	mu     sync.Mutex
	byAddr map[string]*failures
}

// clientAddr is the address a request came from, without its port.
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// blocked reports whether addr may not try a token now, and for how long.
func (l *signInLimiter) blocked(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.byAddr[addr]
	if f == nil {
		return false, 0
	}
	end := f.first.Add(SignInWindow)
	if !now.Before(end) {
		delete(l.byAddr, addr)
		return false, 0
	}
	return f.n >= MaxSignInFailures, end.Sub(now)
}

// fail counts a wrong token from addr.
func (l *signInLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr == nil {
		l.byAddr = map[string]*failures{}
	}
	f := l.byAddr[addr]
	if f == nil || !now.Before(f.first.Add(SignInWindow)) {
		if len(l.byAddr) >= maxTracked {
			for a, x := range l.byAddr {
				if !now.Before(x.first.Add(SignInWindow)) || len(l.byAddr) >= maxTracked {
					delete(l.byAddr, a)
				}
			}
		}
		f = &failures{first: now}
		l.byAddr[addr] = f
	}
	f.n++
}
