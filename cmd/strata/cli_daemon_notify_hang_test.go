package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestDaemonStopAbandonsHangingNotification: SIGTERM while a webhook's
// receiver takes the request and never answers: the daemon gives the
// delivery its grace, then abandons it, logging the channel and never
// the URL, and exits 0.
func TestDaemonStopAbandonsHangingNotification(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	e := newDaemonEnv(t, "")
	e.writeConfig(`sources:
  - {name: gone, type: sqlite, dsn: "sqlite://` + filepath.Join(e.dir, "no", "such", "folder", "x.db") + `"}
jobs:
  - {name: gone-hourly, source: gone, tier: hourly, schedule: "@every 2s"}
notifications:
  channels:
    - {name: ops, type: webhook, url: "` + srv.URL + `/hook-secret-token"}
`)
	p := e.startDaemon()
	p.waitFor("the failed backup's notification, which hangs", func() bool { return len(arrived) > 0 })
	p.stop()
	log := p.log.String()
	if !strings.Contains(log, "notification abandoned") || !strings.Contains(log, "ops") {
		t.Errorf("no abandoned notification naming its channel logged:\n%s", log)
	}
	if strings.Contains(log, "secret-token") {
		t.Errorf("the log holds the webhook's URL:\n%s", log)
	}
}
