// Package dashboard is strata's web dashboard: `strata serve` and the
// daemon's --listen. It renders server-side HTML (html/template, files
// embedded with go:embed, no JavaScript) and SVG charts, and asks for
// nothing outside itself (no fonts, scripts or images from elsewhere; a
// Content-Security-Policy says so to the browser).
//
// Pages: the overview (per job its status, last and next run, the age of
// its newest snapshot against its limit; the last check, drills, storage
// and findings, as service/health judges them), charts of stored and raw
// bytes over time per tier, the snapshot list with why retention keeps
// each one, drill results with restore times, and the run history with
// each run's log and a "run now" button that queues a job in the daemon.
//
// Layer: above service/health, service/daemon and service/state, whose
// types it shows; below cmd/strata, which gives it a Source that reads
// the repository. It opens no repository itself.
//
// Security: every request but the login form carries the token (an
// Authorization: Bearer header) or a session: the login form starts one,
// a random ID in an HttpOnly SameSite=Strict cookie (Secure over TLS)
// held server-side until its lifetime ends, sign-out, a new token
// (SetToken) or a restart; each session has its own CSRF token, which
// forms that change something carry. Wrong tokens are counted per client
// address, and an address with too many has its wrong tokens refused (429)
// for a while; the right token always passes.
// Tokens are compared in constant time and never logged; CheckListen
// refuses an address other than loopback without a configured token.
//
// Words: token (the shared secret), session (a signed-in browser; its ID
// is the cookie's value), series
// (a job's snapshots of one source and tier), run (one execution of a
// job, a state.Run).
package dashboard
