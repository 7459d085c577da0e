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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"strata/service/config"
	"strata/service/daemon"
	"strata/service/dashboard"
	"strata/service/hooks"
	"strata/service/jobs"
	"strata/service/metrics"
	"strata/service/monitor"
	"strata/service/notify"
	"strata/service/state"
	"strata/workflow"
)

func cmdDaemon(g *globals) *cli.Command {
	var stateDir, listen, tokenFile string
	return &cli.Command{
		Name:  "daemon",
		Usage: "run the jobs of strata.yaml on their schedules",
		Description: `Runs the backups, the check and the drill of --config strata.yaml on their
schedules until stopped, and applies the retention policy (retention: in
strata.yaml) as strata forget does, pruning afterwards when retention.prune
is set: on retention.schedule, or without one after every successful
backup (as the job "forget"). Jobs on one repository never run at once:
a job due while another runs waits, and jobs wait in the order they came
due. A
run missed while the daemon was down runs once when it starts, not once per
missed slot. Each run's record (start, end, result, snapshot, error and its
log) and each job's next due time are kept in the state folder
(state_dir in strata.yaml, or --state-dir), so a restart loses nothing.

SIGTERM or Ctrl-C cancels the running job, which releases its lock and
leaves the repository consistent, records it as aborted (it runs again at
the next start), gives the notifications under way 5 s (then abandons
them, logging their channels) and exits 0. SIGHUP reads strata.yaml
again: jobs, schedules, hooks and notification channels change, and so do health's
jobs and limits (a job removed or renamed leaves health and /metrics);
the repository does not (restart for that).

--listen ADDR (else dashboard.listen, when strata.yaml sets it) serves
strata serve's dashboard with the run history, each run's log and "run
now" buttons, /metrics (the runs' and the repository's Prometheus
metrics) and a JSON API: GET /api/jobs, GET
/api/runs?job=NAME&limit=N, GET /api/runs/ID (with its log), POST
/api/jobs/NAME/run (run now). Every request carries the dashboard's token
(Authorization: Bearer TOKEN, or the sign-in form's cookie), found as
strata serve finds it: --token-file, the config's dashboard.token_env or
token_file, STRATA_DASHBOARD_TOKEN, else generated.

strata schedule install --systemd writes systemd units instead, for those
who prefer the system's scheduler.

Exit codes: 0 stopped by a signal, 1 error.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "state-dir", Usage: "keep run records and next due times in `DIR` (default: strata.yaml's state_dir)", Destination: &stateDir},
			&cli.StringFlag{Name: "listen", Usage: "serve the dashboard, /metrics and the JSON API on `ADDR`, such as 127.0.0.1:8420 (default: strata.yaml's dashboard.listen, if set; else none)", Destination: &listen},
			&cli.StringFlag{Name: "token-file", Usage: "the dashboard's token is in `FILE` (as strata serve's)", Destination: &tokenFile},
		},
		Action: func(c *cli.Context) error {
			sv, err := g.newService(c.Context, stateDir)
			if err != nil {
				return err
			}
			sv.tokenFile = tokenFile
			unlock, err := sv.store.LockDaemon()
			if err != nil {
				return err
			}
			defer unlock()
			ctx, stop := context.WithCancel(c.Context)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						sv.reload(g)
					}
				}
			}()
			listenFrom := "--listen"
			if listen == "" && g.cfg.Line("dashboard.listen") > 0 {
				// Written in strata.yaml (not the default strata serve
				// fills in): the daemon serves there; --listen wins.
				listen, listenFrom = g.cfg.Dashboard.Listen, fmt.Sprintf("%s: dashboard.listen", g.cfg.File)
			}
			if listen != "" {
				srv, err := sv.serve(g, listen, listenFrom, tokenFile)
				if err != nil {
					return err
				}
				defer func() {
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					_ = srv.Shutdown(sctx)
				}()
			}
			sv.log.Info("daemon started", "config", g.cfg.File, "state", sv.store.Dir(), "jobs", len(sv.daemon.Jobs()), "pid", os.Getpid())
			sv.warnSecrets(g.cfg, g.env.getenv)
			monitored := make(chan struct{})
			go func() {
				sv.monitor.Run(ctx)
				close(monitored)
			}()
			err = sv.daemon.Run(ctx)
			stop()
			<-monitored // the notifications under way, monitor.StopGrace at most
			sv.log.Info("daemon stopped")
			return err
		},
	}
}

// service is what strata daemon and strata schedule run share: the
// config's jobs, the daemon engine, its store and log.
type service struct {
	// dash is the --listen dashboard (nil without one), whose token
	// SIGHUP reads again from tokenFile or where it came from.
	dash      atomic.Pointer[dashboard.Server]
	tokenFile string
	daemon    *daemon.Daemon
	store     *state.Store
	runner    *jobs.Runner
	hooks     *hooks.Runner
	log       *slog.Logger
	// metrics are the runs' metrics (and the repository's, read at each
	// scrape of /metrics).
	metrics *metrics.Set
	// monitor sends notifications and health's changes; src reads the
	// repository for health and the dashboard.
	monitor *monitor.Monitor
	src     *repoSource
}

// newService builds the daemon of --config's jobs.
func (g *globals) newService(ctx context.Context, stateDir string) (*service, error) {
	if g.cfg == nil {
		return nil, errors.New("no config: give --config strata.yaml (or set STRATA_CONFIG)")
	}
	if err := g.needRepo(); err != nil {
		return nil, err
	}
	stateDir = g.stateDir(stateDir)
	store, err := state.Open(stateDir, 0)
	if err != nil {
		return nil, err
	}
	js, err := jobs.FromConfig(g.cfg, g.env.getenv)
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if g.verbose > 0 {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(g.env.stderr, &slog.HandlerOptions{Level: level}))
	runner := &jobs.Runner{URL: g.repoPath, Config: g.cfg, Getenv: g.env.getenv, Program: "strata " + version,
		Password: func(ctx context.Context) (string, error) { return g.password(ctx, "") },
		Lock:     g.jobLockOptions()}
	hk := &hooks.Runner{Secrets: jobs.Secrets(g.cfg)}
	d, err := daemon.New(js, daemon.Options{Store: store, Runner: runner, Log: log, Hooks: hk})
	if err != nil {
		return nil, err
	}
	sv := &service{daemon: d, store: store, runner: runner, hooks: hk, log: log, metrics: metrics.New(metrics.Options{Version: version}),
		src: &repoSource{g: g, stateDir: store.Dir(), store: store}}
	sv.metrics.SetJobs(js)
	d.Subscribe(sv.metrics.Subscriber())
	if path := g.metricsFile; path != "" {
		// The textfile collector reads the file while the daemon runs:
		// it is written after each run, not only at the daemon's end.
		var mu sync.Mutex
		d.Subscribe(func(e daemon.Event) {
			if e.Kind == daemon.Started {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err := sv.metrics.WriteTextfile(path); err != nil {
				log.Error("cannot write the metrics file", "job", e.Job.Name, "err", err)
			}
		})
	}
	// Notifications, and health after each run (its reads through src,
	// one at a time with the dashboard's).
	if sv.monitor, err = g.daemonMonitor(stateDir, sv.src.Health, log); err != nil {
		return nil, err
	}
	d.Subscribe(sv.monitor.OnEvent)
	return sv, nil
}

// stateDir is the state folder: flag (--state-dir) when given, else
// strata.yaml's state_dir, else the default. g.cfg is set.
func (g *globals) stateDir(flag string) string {
	if flag == "" {
		flag = g.cfg.StateDir
	}
	if flag == "" {
		flag = config.DefaultStateDir()
	}
	return flag
}

// reload reads strata.yaml again (SIGHUP): the jobs, the runs' config,
// the variables hidden from hooks, the notification channels, health's
// jobs and limits, and the jobs /metrics reports. A config that does not
// load leaves them as they were.
func (sv *service) reload(g *globals) {
	cfg, err := config.Load(g.cfg.File)
	if err == nil {
		var (
			js []daemon.Job
			n  *notify.Notifier
		)
		if js, err = jobs.FromConfig(cfg, g.env.getenv); err == nil {
			n, err = g.notifierOf(cfg, notify.Options{Logger: sv.log})
		}
		if err == nil {
			// Before the jobs change: a job's hooks never run with a
			// variable of the new file's passwords in sight.
			sv.hooks.SetSecrets(jobs.Secrets(cfg))
			err = sv.daemon.Reload(js)
		}
		if err == nil {
			sv.monitor.SetNotifier(n)
			for _, w := range cfg.Warnings() {
				sv.log.Warn(w)
			}
			sv.warnSecrets(cfg, g.env.getenv)
			sv.runner.SetConfig(cfg)
			// Health (health.json, the dashboard) and /metrics follow
			// the file as read now: a job removed or renamed is no
			// longer judged, changed limits count, and health is
			// evaluated again without waiting for a run.
			sv.src.setConfig(cfg)
			sv.metrics.SetJobs(js)
			sv.monitor.Reevaluate()
			if changed := repositoryChanges(g.cfg.Repository, cfg.Repository); len(changed) > 0 {
				sv.log.Warn("the repository section changed in the config ("+strings.Join(changed, ", ")+
					"): the daemon goes on with the repository, password and lock wait it started with; restart it to change them",
					"config", g.cfg.File)
			}
		}
	}
	if dash := sv.dash.Load(); dash != nil {
		// A new token (its file rewritten) ends every session.
		g.reloadToken(dash, sv.tokenFile, sv.log)
	}
	if err != nil {
		sv.log.Error("reload failed: the jobs stay as they were", "config", g.cfg.File, "err", err)
		return
	}
	sv.log.Info("config reloaded", "config", g.cfg.File, "jobs", len(sv.daemon.Jobs()))
}

// serve starts the --listen server: the dashboard (service/dashboard)
// with the daemon's run history, "run now", the JSON API on /api/ and
// the metrics on /metrics, all behind the dashboard's token.
// from names where addr comes from, for an error.
func (sv *service) serve(g *globals, addr, from, tokenFile string) (*http.Server, error) {
	token, where, configured, err := g.dashboardToken(tokenFile)
	if err != nil {
		return nil, err
	}
	if err := dashboard.CheckListen(addr, configured); err != nil {
		return nil, err
	}
	src := sv.src
	srv, err := dashboard.New(dashboard.Options{Token: token, Source: src, Version: version,
		History: sv.store, Scheduler: sv.daemon, API: sv.daemon.Handler(), Metrics: src.metricsHandler(sv.metrics),
		Log: sv.log, SessionLifetime: g.sessionLifetime()})
	if err != nil {
		return nil, err
	}
	sv.dash.Store(srv)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", from, addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sv.log.Error("the dashboard stopped", "err", err)
		}
	}()
	// Always said: without it the user cannot find the page.
	fmt.Fprintf(g.env.stderr, "dashboard on http://%s/ (token: %s)\n", ln.Addr(), where)
	return hs, nil
}

// jobLockOptions say how the daemon's jobs wait for the repository's
// lock: for --retry-lock when it is given, else for strata.yaml's
// repository.lock_wait (default 1h), so that a job queues behind another
// process's lock (a prune, a dashboard page's read) instead of failing.
func (g *globals) jobLockOptions() workflow.LockOptions {
	if g.retryLock > 0 {
		return workflow.LockOptions{RetryLock: g.retryLock}
	}
	return workflow.LockOptions{RetryLock: g.cfg.LockWait(), RetryLockFrom: "repository.lock_wait"}
}

// warnSecrets logs each secret cfg names that cannot be read in the
// daemon's environment (an unset *_env variable, a missing *_file), which
// the job, hook or channel needing it would otherwise find only when it
// runs: a lost alert. The messages name keys and variables, never values.
func (sv *service) warnSecrets(cfg *config.Config, getenv func(string) string) {
	for _, m := range cfg.CheckSecrets(getenv) {
		sv.log.Warn("a secret the config names cannot be read: " + m)
	}
}

// repositoryChanges names the keys of the repository section that differ
// between a and b (never their values: a password may be among them).
func repositoryChanges(a, b config.Repository) []string {
	var out []string
	for _, k := range []struct {
		key  string
		same bool
	}{
		{"url", a.URL == b.URL},
		{"password_file", a.PasswordFile == b.PasswordFile},
		{"password_env", a.PasswordEnv == b.PasswordEnv},
		{"password_command", a.PasswordCommand == b.PasswordCommand},
		{"password", a.Password == b.Password},
		{"lock_wait", (a.LockWait == nil) == (b.LockWait == nil) && (a.LockWait == nil || *a.LockWait == *b.LockWait)},
	} {
		if !k.same {
			out = append(out, "repository."+k.key)
		}
	}
	return out
}
