package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/service/daemon"
	"strata/service/health"
	"strata/service/notify"
	"strata/service/state"
	"strata/workflow"
)

type hit struct {
	path, query string
	body        []byte
}

// receiver is a real HTTP server on loopback for a webhook and pings.
type receiver struct {
	*httptest.Server
	hits chan hit
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{hits: make(chan hit, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.hits <- hit{req.URL.Path, req.URL.RawQuery, b}
	}))
	t.Cleanup(r.Close)
	return r
}

// next waits for the next request (the notifier sends in the background).
func (r *receiver) next(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-r.hits:
		return h
	case <-time.After(30 * time.Second):
		t.Fatal("no request arrived")
	}
	return hit{}
}

// collect gets n requests and sorts them by path.
func (r *receiver) collect(t *testing.T, n int) map[string][]hit {
	t.Helper()
	out := map[string][]hit{}
	for range n {
		h := r.next(t)
		out[h.path] = append(out[h.path], h)
	}
	return out
}

func (r *receiver) quiet(t *testing.T) {
	t.Helper()
	select {
	case h := <-r.hits:
		t.Fatalf("unexpected request %s", h.path)
	case <-time.After(200 * time.Millisecond):
	}
}

type fakeCheckReport struct{ errors int }

func (r fakeCheckReport) Errors() int { return r.errors }

var uuidRE = regexp.MustCompile(`^rid=[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestDaemonRunsNotifyAndHealth: a real daemon runs jobs (RunOnce); the
// monitor, subscribed to it, pings healthchecks at start and end with one
// run ID, posts failures to a webhook (not successes), and after each run
// evaluates health and posts what changed.
func TestDaemonRunsNotifyAndHealth(t *testing.T) {
	rcv := newReceiver(t)
	var chs []notify.Channel
	for _, c := range []notify.Config{
		{Name: "ops", Type: notify.TypeWebhook, URL: notify.Secret{Value: rcv.URL + "/hook"}},
		{Name: "hc", Type: notify.TypeHealthchecks, URL: notify.Secret{Value: rcv.URL + "/ping/abc"}, Filter: notify.Filter{Jobs: []string{"db-hourly"}}},
	} {
		ch, err := notify.New(c, notify.NewOptions{})
		if err != nil {
			t.Fatal(err)
		}
		chs = append(chs, ch)
	}
	n, err := notify.NewNotifier(chs, notify.Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		fail    = map[string]error{}
		reports = map[string]any{}
		finding []health.Finding // what the next evaluation finds
	)
	runner := daemon.RunnerFunc(func(ctx context.Context, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
		log.Info("working", "job", job.Name)
		mu.Lock()
		defer mu.Unlock()
		return daemon.Outcome{Snapshot: "1a2b3c4d", Summary: "added 1 MiB", Report: reports[job.Name]}, fail[job.Name]
	})
	store, err := state.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	jobs := []daemon.Job{
		{Name: "db-hourly", Kind: "backup", Tier: "hourly", Source: "db", Repository: "/srv/repo"},
		{Name: "check", Kind: "check", Repository: "/srv/repo"},
	}
	d, err := daemon.New(jobs, daemon.Options{Store: store, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Notifier: n, Tracker: &health.Tracker{Dir: t.TempDir()}, Host: "db1", Repository: "/srv/repo",
		Evaluate: func(context.Context) (*health.Report, error) {
			mu.Lock()
			defer mu.Unlock()
			if finding == nil {
				return nil, errors.New("repository gone")
			}
			return &health.Report{Time: time.Now(), Findings: finding}, nil
		}})
	d.Subscribe(m.OnEvent)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// A backup that succeeds: start and success pings with one run ID;
	// health finds the daily series old.
	finding = []health.Finding{{ID: "age db-daily", Status: health.Critical, Message: "db-daily: newest snapshot is 27h old", Job: "db-daily"}}
	if _, err := d.RunOnce(ctx, "db-hourly"); err != nil {
		t.Fatal(err)
	}
	got := rcv.collect(t, 3)
	start, end := got["/ping/abc/start"], got["/ping/abc"]
	if len(start) != 1 || len(end) != 1 || !uuidRE.MatchString(start[0].query) || start[0].query != end[0].query {
		t.Fatalf("pings %+v", got)
	}
	if !strings.Contains(string(end[0].body), "working") {
		t.Errorf("success ping body (the run's log): %q", end[0].body)
	}
	var ev map[string]any
	if err := json.Unmarshal(got["/hook"][0].body, &ev); err != nil || ev["event"] != "unhealthy" || ev["check"] != "age db-daily" || ev["severity"] != "critical" || ev["host"] != "db1" {
		t.Fatalf("webhook %s (%v)", got["/hook"][0].body, err)
	}
	rcv.quiet(t) // no success message to the webhook

	// The backup fails: a fail ping and backup_failed; the repository
	// cannot be read.
	mu.Lock()
	fail["db-hourly"] = errors.New("connection refused")
	finding = nil
	mu.Unlock()
	if _, err := d.RunOnce(ctx, "db-hourly"); err != nil {
		t.Fatal(err)
	}
	got = rcv.collect(t, 4)
	if len(got["/ping/abc/start"]) != 1 || len(got["/ping/abc/fail"]) != 1 || len(got["/hook"]) != 2 {
		t.Fatalf("requests %v", keys(got))
	}
	kinds := map[string]map[string]any{}
	for _, h := range got["/hook"] {
		var e map[string]any
		if err := json.Unmarshal(h.body, &e); err != nil {
			t.Fatal(err)
		}
		kinds[e["event"].(string)] = e
	}
	if e := kinds["backup_failed"]; e == nil || e["error"] != "connection refused" || e["job"] != "db-hourly" || e["tier"] != "hourly" {
		t.Fatalf("backup_failed %v", kinds)
	}
	if e := kinds["unhealthy"]; e == nil || e["check"] != health.RepositoryFinding || !strings.Contains(e["message"].(string), "repository gone") {
		t.Fatalf("unhealthy %v", kinds)
	}

	// A check that finds damage; health is fine again: both findings
	// recover, and check_damage goes out (the check job has no pings).
	mu.Lock()
	fail["check"] = errors.New("problems found: check found 2 errors")
	reports["check"] = fakeCheckReport{errors: 2}
	finding = []health.Finding{}
	mu.Unlock()
	if _, err := d.RunOnce(ctx, "check"); err != nil {
		t.Fatal(err)
	}
	got = rcv.collect(t, 3)
	var evs []string
	for _, h := range got["/hook"] {
		var e map[string]any
		_ = json.Unmarshal(h.body, &e)
		evs = append(evs, e["event"].(string)+" "+e["severity"].(string)+" "+str(e["check"]))
	}
	want := map[string]bool{"check_damage critical ": true, "recovered critical age db-daily": true, "recovered critical repository": true}
	for _, e := range evs {
		if !want[e] {
			t.Fatalf("events %v", evs)
		}
		delete(want, e)
	}
	if len(want) > 0 {
		t.Fatalf("events %v, missing %v", evs, want)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func keys(m map[string][]hit) []string {
	var out []string
	for k, v := range m {
		for range v {
			out = append(out, k)
		}
	}
	return out
}

func TestJobEventKinds(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		ev     daemon.EventKind
		result state.Result
		report any
		want   notify.Kind
		sent   bool
	}{
		{"backup", daemon.Started, state.Running, nil, notify.JobStarted, true},
		{"backup", daemon.Succeeded, state.Succeeded, nil, notify.BackupSucceeded, true},
		{"backup", daemon.Failed, state.Failed, nil, notify.BackupFailed, true},
		{"backup", daemon.LockBusy, state.LockBusy, nil, notify.BackupFailed, true},
		{"backup", daemon.Failed, state.Aborted, nil, "", false},
		{"check", daemon.Failed, state.Failed, fakeCheckReport{3}, notify.CheckDamage, true},
		{"check", daemon.Failed, state.Failed, nil, notify.CheckFailed, true},
		{"check", daemon.Failed, state.Failed, workflow.CheckReport{Errors: 1}, notify.CheckDamage, true},
		{"check", daemon.Failed, state.Failed, workflow.CheckReport{}, notify.CheckFailed, true},
		{"check", daemon.Succeeded, state.Succeeded, fakeCheckReport{0}, notify.JobSucceeded, true},
		{"drill", daemon.Failed, state.Failed, nil, notify.DrillFailed, true},
		{"drill", daemon.Succeeded, state.Succeeded, nil, notify.DrillSucceeded, true},
		{"forget", daemon.Failed, state.Failed, nil, notify.JobFailed, true},
	} {
		e := daemon.Event{Kind: tc.ev, Job: daemon.Job{Name: "j", Kind: tc.kind}, Run: state.Run{ID: "r1", Result: tc.result}, Report: tc.report}
		got, sent := JobEvent(e, "h", "r")
		if sent != tc.sent || (sent && got.Kind != tc.want) {
			t.Errorf("%s %s %s: %v %v, want %v %v", tc.kind, tc.ev, tc.result, got.Kind, sent, tc.want, tc.sent)
		}
	}
	if RunUUID("a") != RunUUID("a") || RunUUID("a") == RunUUID("b") || RunUUID("") != "" {
		t.Error("run UUIDs")
	}
}
