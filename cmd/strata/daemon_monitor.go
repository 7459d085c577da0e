package main

import (
	"context"
	"log/slog"
	"os"

	"strata/service/health"
	"strata/service/monitor"
	"strata/service/notify"
)

// daemonMonitor is the daemon's subscriber for notifications and health
// (package monitor): each run's start and end go to the channels of
// --config, and after each run evaluate judges the repository's health,
// whose changes go to the channels too; the findings are kept in
// stateDir, so a restarted daemon neither repeats an alert nor misses a
// recovery. Subscribe its OnEvent and run its Run for as long as the
// daemon runs.
func (g *globals) daemonMonitor(stateDir string, evaluate func(context.Context) (*health.Report, error), log *slog.Logger) (*monitor.Monitor, error) {
	n, err := g.notifier(notify.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return monitor.New(monitor.Options{Notifier: n, Evaluate: evaluate, Tracker: &health.Tracker{Dir: stateDir},
		Host: host, Repository: g.repoName(), Logger: log}), nil
}
