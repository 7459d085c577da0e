package dashboard_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"strata/service/dashboard"
	"strata/service/health"
)

// pendingSource reports a job that is pending and a state folder that
// cannot be written.
type pendingSource struct{ fixedSource }

func (pendingSource) Health(context.Context) (*health.Report, error) {
	due := time.Now().Add(5 * time.Hour)
	since := time.Now().Add(-time.Hour)
	rep := &health.Report{Status: health.Critical, Configured: true,
		Jobs:        []health.JobHealth{{Job: "db-weekly", Source: "postgres://db1:5432/customers", Tier: "weekly", Pending: true, FirstDue: &due, MaxAgeSeconds: 7 * 86400}},
		StateFolder: &health.StateFolderHealth{Dir: "/var/lib/strata", Status: health.Critical, Error: "no space left on device", Since: &since},
		Findings:    []health.Finding{{ID: "state", Status: health.Critical, Message: "the daemon's state folder /var/lib/strata cannot be written"}},
		Notes:       []string{"db-weekly: pending: no snapshot yet; its first run is due soon"}}
	return rep, nil
}

// TestOverviewPendingAndStateFolder: the overview shows a pending job
// with a pending badge (not its status) and the state folder's failure.
func TestOverviewPendingAndStateFolder(t *testing.T) {
	srv, err := dashboard.New(dashboard.Options{Token: token, Source: pendingSource{}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	_, body, _ := get(t, "http://"+ln.Addr().String()+"/", bearer)
	for _, w := range []string{`status-unknown" title="no snapshot yet; its first run is not overdue">pending</span>`, "db-weekly: pending: no snapshot yet",
		"State folder", "<code>/var/lib/strata</code> cannot be written since", "no space left on device"} {
		if !strings.Contains(body, w) {
			t.Errorf("overview lacks %q", w)
		}
	}
}
