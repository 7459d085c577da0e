package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"strata/service/daemon"
	"strata/service/health"
	"strata/service/state"
)

//go:embed templates/*.html static/*
var files embed.FS

// Source reads what the pages show from the repository. Each call may
// open the repository and take a shared lock; ctx ends with the request.
type Source interface {
	// Health is the repository judged as `strata health` judges it.
	Health(ctx context.Context) (*health.Report, error)
	// Growth is every snapshot, oldest first, with the stored bytes it
	// added (as `strata stats --growth` counts them) and its raw bytes.
	Growth(ctx context.Context) ([]GrowthPoint, error)
	// Snapshots are every snapshot, newest first, with its protection and
	// what the retention policy decides for it (as `forget --dry-run`).
	Snapshots(ctx context.Context) (*SnapshotList, error)
	// Tables are the tables of each database source's newest snapshot,
	// with their rows then and in the snapshot before it.
	Tables(ctx context.Context) ([]SourceTables, error)
}

// SourceTables are the tables of a database source's newest snapshot.
type SourceTables struct {
	Source   string
	Snapshot string // short ID
	Time     time.Time
	Tier     string
	// Previous is the time of the snapshot before it (zero: none), which
	// the rows' changes are against.
	Previous time.Time
	Tables   []TableStatus
}

// TableStatus is one table of a source's newest snapshot.
type TableStatus struct {
	Name string
	Rows int64
	// PrevRows are its rows in the previous snapshot; InPrev says whether
	// it was there.
	PrevRows int64
	InPrev   bool
	// Drill is the table's result in its source's last drill (the
	// dashboard fills it in from the health report); nil when that drill
	// did not restore it.
	Drill *health.DrillTable
}

// Change is the rows added (or removed, negative) since the previous
// snapshot, as text: "+12", "-3", "0", "new".
func (t TableStatus) Change() string {
	switch d := t.Rows - t.PrevRows; {
	case !t.InPrev:
		return "new"
	case d > 0:
		return fmt.Sprintf("+%d", d)
	default:
		return fmt.Sprint(d)
	}
}

// GrowthPoint is one snapshot in the charts.
type GrowthPoint struct {
	Time       time.Time
	Tier       string
	AddedBytes uint64 // stored bytes no older snapshot needs
	RawBytes   uint64 // what a restore of it writes
}

// SnapshotList is the snapshot page's data.
type SnapshotList struct {
	// Policy describes the retention policy in force ("" when none is
	// stored: forget then keeps everything).
	Policy    string
	Snapshots []Snapshot
}

// Snapshot is one row of the snapshot list.
type Snapshot struct {
	ID, ShortID        string
	Time               time.Time
	Host, Source, Tier string
	Tags               []string
	// Protected: strata protect keeps it; ProtectedUntil (zero: for ever)
	// and ProtectReason say how long and why.
	Protected      bool
	ProtectedUntil time.Time
	ProtectReason  string
	// Keep and Reasons are the retention policy's decision; no policy
	// keeps every snapshot, with no reason.
	Keep    bool
	Reasons []string
}

// RunHistory is the daemon's run records (*state.Store).
type RunHistory interface {
	Runs(job string, limit int) ([]state.Run, error)
	Run(id string) (state.Run, error)
}

// JobStates is what a RunHistory may also tell: each job's next due time
// and last run (*state.Store's jobs.json), for a dashboard without the
// daemon.
type JobStates interface {
	Jobs() (map[string]state.Job, error)
}

// Scheduler is the running daemon (*daemon.Daemon): its jobs, and run
// now.
type Scheduler interface {
	Jobs() []daemon.JobStatus
	RunNow(name string) error
}

// Options configure a Server.
type Options struct {
	// Token is what every request must carry (see CheckToken).
	Token  string
	Source Source
	// History and Scheduler are the daemon's; nil without one (strata
	// serve without a state folder): the pages then say so.
	History   RunHistory
	Scheduler Scheduler
	// Metrics, when set, is served on /metrics and API on /api/, both
	// behind the token.
	Metrics, API http.Handler
	// SessionLifetime is how long a sign-in lasts (0:
	// DefaultSessionLifetime).
	SessionLifetime time.Duration
	// Log receives failures to read the repository; never the token.
	Log     *slog.Logger
	Now     func() time.Time
	Version string
}

// Server is the dashboard, an http.Handler.
type Server struct {
	opts     Options
	mu       sync.Mutex
	token    string // under mu: SetToken changes it
	sessions sessionStore
	limiter  signInLimiter
	pages    map[string]*template.Template
	mux      *http.ServeMux
	log      *slog.Logger
}

// New returns the dashboard.
func New(opts Options) (*Server, error) {
	if err := CheckToken(opts.Token, "the options"); err != nil {
		return nil, err
	}
	if opts.Source == nil {
		return nil, errors.New("dashboard: no Source")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = DefaultSessionLifetime
	}
	s := &Server{opts: opts, token: opts.Token, log: log}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /login", s.loginForm)
	m.HandleFunc("POST /login", s.login)
	m.Handle("GET /static/", http.FileServerFS(files))
	m.HandleFunc("GET /{$}", s.auth(s.overview))
	m.HandleFunc("GET /charts", s.auth(s.charts))
	m.HandleFunc("GET /snapshots", s.auth(s.snapshots))
	m.HandleFunc("GET /drills", s.auth(s.drills))
	m.HandleFunc("GET /runs", s.auth(s.runs))
	m.HandleFunc("GET /runs/{id}", s.auth(s.run))
	m.HandleFunc("POST /jobs/{name}/run", s.auth(s.runNow))
	m.HandleFunc("POST /logout", s.auth(s.logout))
	if s.opts.Metrics != nil {
		m.Handle("GET /metrics", s.auth(s.opts.Metrics.ServeHTTP))
	}
	if s.opts.API != nil {
		m.Handle("/api/", s.auth(s.opts.API.ServeHTTP))
	}
	s.mux = m
}

// securityHeaders: nothing but this server's own styles and images, no
// framing, no referrer, no caching of pages that show the repository.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// ServeHTTP serves the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// SetToken replaces the token (a new one read at SIGHUP) and ends every
// session: whoever signed in with the old token signs in again.
func (s *Server) SetToken(token string) error {
	if err := CheckToken(token, "the new token"); err != nil {
		return err
	}
	s.mu.Lock()
	changed := token != s.token
	s.token = token
	s.mu.Unlock()
	if changed {
		s.sessions.endAll()
		s.log.Info("dashboard: the token changed; every session ended")
	}
	return nil
}

// Log is the server's log (Options.Log, or one that discards).
func (s *Server) Log() *slog.Logger { return s.log }

func (s *Server) currentToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

type sessionKey struct{}

// auth refuses requests without the token: 401, with the login form for
// a browser; 429 for a wrong token from an address that gave a wrong
// token too often (the right token always passes). Forms
// posted with a session cookie must carry the session's CSRF token.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind, sess, retry := s.authenticate(r)
		switch kind {
		case limited:
			s.tooMany(w, retry)
			return
		case unauthenticated:
			w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
			s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Sign in", Data: loginData{Next: r.URL.Path}})
			return
		}
		if r.Method == http.MethodPost && kind == byCookie && !equal(r.PostFormValue("csrf"), sess.csrf) {
			http.Error(w, "the form's CSRF token is missing or wrong: load the page again", http.StatusForbidden)
			return
		}
		if sess != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		}
		h(w, r)
	}
}

// tooMany refuses a client that gave a wrong token too often.
func (s *Server) tooMany(w http.ResponseWriter, retry time.Duration) {
	secs := int(retry.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	http.Error(w, fmt.Sprintf("too many wrong tokens from this address: try again in %v", retry.Round(time.Second)), http.StatusTooManyRequests)
}

type loginData struct {
	Next  string
	Wrong bool
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", pageData{Title: "Sign in", Data: loginData{Next: r.URL.Query().Get("next")}})
}

// login checks the form's token and starts a session: a random ID in an
// HttpOnly, SameSite=Strict cookie (Secure over TLS) that lasts
// SessionLifetime. Wrong tokens count against the client's address; the
// right token signs in even from an address over the limit.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	addr := clientAddr(r.RemoteAddr)
	next := localPath(r.PostFormValue("next"))
	if !equal(r.PostFormValue("token"), s.currentToken()) {
		// Only wrong tokens are limited: the right one always signs in.
		if blocked, wait := s.limiter.blocked(addr, now); blocked {
			s.log.Warn("dashboard: a sign-in refused: too many wrong tokens from its address", "remote", addr)
			s.tooMany(w, wait)
			return
		}
		s.limiter.fail(addr, now)
		s.log.Warn("dashboard: a sign-in with a wrong token", "remote", r.RemoteAddr)
		s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Sign in", Data: loginData{Next: next, Wrong: true}})
		return
	}
	expires := now.Add(s.opts.SessionLifetime)
	id, _ := s.sessions.create(now, expires)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", MaxAge: int(s.opts.SessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath returns next when it is a path of this server, else "/": no
// open redirect. A browser strips tabs and newlines from a URL and reads
// a backslash as a slash, so "/\t/evil.example" would leave the server:
// any control character, space or backslash is refused.
func localPath(next string) string {
	if len(next) == 0 || next[0] != '/' || len(next) > 1 && next[1] == '/' {
		return "/"
	}
	for _, c := range next {
		if c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return next
}

// logout ends the session on the server, so that its cookie signs no one
// in any more, and removes the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// pageData is what every page's template gets.
type pageData struct {
	Title string
	Nav   string // the page's name in the navigation
	// SignedIn shows the navigation; CSRF is the session's token for
	// the forms ("" for a bearer token, whose requests need none).
	SignedIn bool
	CSRF     string
	Version  string
	Now      time.Time
	// Error says what could not be read, in words; the rest of the page
	// shows what could.
	Error string
	Data  any
}

func (s *Server) page(r *http.Request, nav, title string, data any) pageData {
	p := pageData{Title: title, Nav: nav, SignedIn: true, Version: s.opts.Version, Now: s.opts.Now(), Data: data}
	if sess, ok := r.Context().Value(sessionKey{}).(*session); ok {
		p.CSRF = sess.csrf
	}
	return p
}

// render executes a page into a buffer first, so that a template error
// never sends half a page with a success status.
func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("dashboard: rendering a page", "page", name, "err", err)
		http.Error(w, fmt.Sprintf("rendering the %s page failed: %v", name, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
