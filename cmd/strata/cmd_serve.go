package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"strata/service/config"
	"strata/service/dashboard"
	"strata/service/metrics"
	"strata/service/state"
)

// defaultDashboardListen is strata serve's address (service/config's
// default for dashboard.listen).
const defaultDashboardListen = "127.0.0.1:8420"

func cmdServe(g *globals) *cli.Command {
	var listen, tokenFile, stateDir string
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the web dashboard of the repository",
		Description: `Serves a web dashboard on --listen (default 127.0.0.1:8420) until
Ctrl-C: per job and tier the status, the newest snapshot's age against its
limit, the last check and drills and the storage use (as strata health
judges them); charts of stored and raw bytes over time per tier; the
snapshots with their tier, tags, protection and why the retention policy
keeps each one; drill results with restore times; and, with --state-dir
(the daemon's state folder), the run history with each run's log. It
serves Prometheus metrics on /metrics too (the repository's snapshots per
tier and size, read at each scrape), behind the same token.
strata daemon --listen serves the same pages with "run now" buttons.

Every request must carry the token, as an Authorization: Bearer header or
through the sign-in form (which sets a session cookie): the file
--token-file (mode 0600, at least 32 characters), else --config's
dashboard.token_env or token_file, else STRATA_DASHBOARD_TOKEN, else a
token generated into ~/.config/strata/dashboard-token (0600) whose path is
printed, never the token. Listening beyond loopback needs a configured
token. With --config, --listen defaults to dashboard.listen, --state-dir
to state_dir (when the daemon made it), and jobs are judged by their
limits as strata health --config judges them.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "serve on `ADDR` (HOST:PORT)", Value: defaultDashboardListen, Destination: &listen},
			&cli.StringFlag{Name: "token-file", Usage: "read the token from `FILE`", Destination: &tokenFile},
			&cli.StringFlag{Name: "state-dir", Usage: "the daemon's state folder `DIR`, for the run history", Destination: &stateDir},
		},
		Action: func(c *cli.Context) error {
			if err := g.needRepo(); err != nil {
				return err
			}
			// The dashboard serves /metrics; a textfile written when it
			// stops would only say that serve ran.
			g.metricsFile = ""
			if !c.IsSet("listen") && g.cfg != nil && g.cfg.Dashboard.Listen != "" {
				listen = g.cfg.Dashboard.Listen
			}
			token, where, configured, err := g.dashboardToken(tokenFile)
			if err != nil {
				return err
			}
			if err := dashboard.CheckListen(listen, configured); err != nil {
				return err
			}
			if stateDir == "" && g.cfg != nil {
				// The daemon's state folder, when it has run here.
				if fi, err := os.Stat(g.cfg.StateDir); err == nil && fi.IsDir() {
					stateDir = g.cfg.StateDir
				}
			}
			var history dashboard.RunHistory
			if stateDir != "" {
				st, err := state.Open(stateDir, 0)
				if err != nil {
					return err
				}
				history = st
			}
			srv, err := g.newDashboard(token, history, nil, metrics.New(metrics.Options{Version: version}))
			if err != nil {
				return err
			}
			stopReload := g.reloadTokenOnHUP(c.Context, srv, tokenFile, srv.Log())
			defer stopReload()
			return serveDashboard(c.Context, g, listen, where, srv)
		},
	}
}

// newDashboard is the dashboard of the repository of --repo (or the
// config's), with the daemon's run history and scheduler when given (nil
// for strata serve without them), serving set on /metrics with the
// repository's state read at each scrape. strata daemon --listen mounts
// it with its store and itself.
func (g *globals) newDashboard(token string, history dashboard.RunHistory, sched dashboard.Scheduler, set *metrics.Set) (*dashboard.Server, error) {
	src := &repoSource{g: g}
	if st, ok := history.(*state.Store); ok {
		src.stateDir = st.Dir() // first due times of pending jobs
	}
	return dashboard.New(dashboard.Options{Token: token, Source: src, History: history, Scheduler: sched,
		Metrics: src.metricsHandler(set), Version: version, SessionLifetime: g.sessionLifetime(),
		Log: slog.New(slog.NewTextHandler(g.env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
}

// serveDashboard listens on addr and serves h until ctx ends.
func serveDashboard(ctx context.Context, g *globals, addr, tokenWhere string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	})
	defer stop()
	// Always said, even with --quiet: without it the user cannot find
	// the page.
	fmt.Fprintf(g.env.stderr, "dashboard on http://%s/ (token: %s)\n", ln.Addr(), tokenWhere)
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// dashboardToken finds the dashboard's token: --token-file, else the
// config's dashboard.token_env or token_file, else STRATA_DASHBOARD_TOKEN,
// else the generated token file. where says where it came from, for the
// user (never the token itself); configured is false for a generated
// token.
func (g *globals) dashboardToken(tokenFile string) (token, where string, configured bool, err error) {
	if tokenFile != "" {
		t, err := dashboard.ReadTokenFile(tokenFile)
		return t, "the file " + tokenFile, true, err
	}
	if g.cfg != nil && (g.cfg.Dashboard.TokenEnv != "" || g.cfg.Dashboard.TokenFile != "") {
		what := g.cfg.File + ": dashboard token"
		t, err := config.ReadSecret(what, g.cfg.Dashboard.TokenEnv, g.cfg.Dashboard.TokenFile, g.env.getenv)
		if err == nil {
			err = dashboard.CheckToken(t, what)
		}
		return t, "dashboard in " + g.cfg.File, true, err
	}
	if t := g.env.getenv("STRATA_DASHBOARD_TOKEN"); t != "" {
		return t, "STRATA_DASHBOARD_TOKEN", true, dashboard.CheckToken(t, "STRATA_DASHBOARD_TOKEN")
	}
	dir := g.env.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := g.env.getenv("HOME")
		if home == "" {
			var herr error
			if home, herr = os.UserHomeDir(); herr != nil {
				return "", "", false, errors.New("dashboard: no token: set STRATA_DASHBOARD_TOKEN or give --token-file")
			}
		}
		dir = filepath.Join(home, ".config")
	}
	path := filepath.Join(dir, "strata", "dashboard-token")
	t, created, err := dashboard.LoadOrCreateTokenFile(path)
	if err != nil {
		return "", "", false, err
	}
	if created {
		where = "generated into " + path
	} else {
		where = "in " + path
	}
	return t, where, false, nil
}

// sessionLifetime is strata.yaml's dashboard.session_lifetime (0: the
// dashboard's default).
func (g *globals) sessionLifetime() time.Duration {
	if g.cfg == nil {
		return 0
	}
	return time.Duration(g.cfg.Dashboard.SessionLifetime)
}

// reloadToken reads the dashboard's token again, as at the start, and
// gives it to srv: a new token ends every session. A token that cannot
// be read leaves the old one in force.
func (g *globals) reloadToken(srv *dashboard.Server, tokenFile string, log *slog.Logger) {
	token, where, _, err := g.dashboardToken(tokenFile)
	if err == nil {
		err = srv.SetToken(token)
	}
	if err != nil {
		log.Error("dashboard: the token could not be read again; the old one stays", "err", err)
		return
	}
	log.Debug("dashboard: token read again", "from", where)
}

// reloadTokenOnHUP reads the token again at each SIGHUP until ctx ends
// or the returned function is called.
func (g *globals) reloadTokenOnHUP(ctx context.Context, srv *dashboard.Server, tokenFile string, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				g.reloadToken(srv, tokenFile, log)
			}
		}
	}()
	return func() { signal.Stop(hup); cancel() }
}
