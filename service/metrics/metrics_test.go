package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/repo/archive"
	"strata/repo/repotest"
	"strata/service/metrics"
)

// scrape serves s on a loopback port and reads /metrics as Prometheus
// would, parsing the text exposition.
func scrape(t *testing.T, s *metrics.Set) map[string]*dto.MetricFamily {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.Handler())
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	return parse(t, resp.Body)
}

func parse(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return fams
}

// value returns the value of the series of family name with labels (name,
// value pairs), and whether it exists.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		match := true
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: missing", name, labels)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestServedExposition(t *testing.T) {
	s := metrics.New(metrics.Options{Version: "1.2.3"})
	start := time.Unix(1_700_000_000, 0)
	s.ObserveBackup(metrics.Backup{Job: "db-hourly", Tier: "hourly", Start: start, End: start.Add(90 * time.Second), AddedBytes: 4096, ReadBytes: 1 << 20})
	s.ObserveBackup(metrics.Backup{Job: "db-daily", Tier: "daily", Start: start, End: start.Add(time.Second), Err: errors.New("connection refused")})
	s.ObserveCheck(metrics.Check{Job: "check", Start: start, End: start.Add(10 * time.Second)})
	s.ObserveDrill(metrics.Drill{Job: "drill", Tables: []string{"orders", "customers"}, End: start, RestoreSeconds: 12.5, Restored: true})
	s.SetRepository(metrics.Repository{StoredBytes: 123456, Snapshots: map[string]int{"hourly": 24, "daily": 30}, Newest: map[string]time.Time{"hourly": start}})

	fams := scrape(t, s)
	want(t, fams, 1, "strata_build_info", "version", "1.2.3", "goversion", runtime.Version())
	want(t, fams, 1_700_000_090, "strata_backup_last_success_timestamp_seconds", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 90, "strata_backup_duration_seconds", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 4096, "strata_backup_added_bytes", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 1, "strata_backup_success", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 0, "strata_backup_success", "job", "db-daily", "tier", "daily")
	if _, ok := value(fams, "strata_backup_last_success_timestamp_seconds", "job", "db-daily", "tier", "daily"); ok {
		t.Error("a failed backup set its job's last success time")
	}
	want(t, fams, 123456, "strata_repository_stored_bytes")
	want(t, fams, 24, "strata_snapshots", "tier", "hourly")
	want(t, fams, 30, "strata_snapshots", "tier", "daily")
	want(t, fams, 1_700_000_010, "strata_check_last_success_timestamp_seconds")
	want(t, fams, 12.5, "strata_drill_restore_seconds", "table", "customers,orders")
	want(t, fams, 1, "strata_runs_total", "job", "db-daily", "kind", "backup", "result", "failure")
	if _, ok := fams["strata_command_success"]; ok {
		t.Error("a metric never observed is exposed")
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "strata_") {
			t.Errorf("family %s: not strata's (the registry must be private)", name)
		}
		if f.GetHelp() == "" {
			t.Errorf("family %s has no help", name)
		}
	}
}

func TestTextfileMerges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "strata.prom")
	start := time.Unix(1_700_000_000, 0)

	// A check, then a backup in another process: the file keeps both.
	first := metrics.New(metrics.Options{Version: "v"})
	first.ObserveCheck(metrics.Check{Start: start, End: start.Add(time.Second)})
	first.ObserveBackup(metrics.Backup{Job: "a", Tier: "daily", Start: start, End: start.Add(time.Second), AddedBytes: 7})
	first.SetRepository(metrics.Repository{Snapshots: map[string]int{"daily": 3, "old": 1}})
	if err := first.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (node_exporter reads it as its own user)", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}

	second := metrics.New(metrics.Options{Version: "v"})
	later := start.Add(time.Hour)
	second.ObserveBackup(metrics.Backup{Job: "a", Tier: "daily", Start: later, End: later.Add(time.Second), Err: errors.New("boom")})
	second.ObserveBackup(metrics.Backup{Job: "b", Tier: "hourly", Start: later, End: later.Add(time.Second), AddedBytes: 9})
	second.SetRepository(metrics.Repository{Snapshots: map[string]int{"daily": 4}})
	if err := second.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fams := parse(t, bytes.NewReader(b))
	want(t, fams, 1_700_000_001, "strata_check_last_success_timestamp_seconds")
	want(t, fams, 1_700_000_001, "strata_backup_last_success_timestamp_seconds", "job", "a", "tier", "daily")
	want(t, fams, 0, "strata_backup_success", "job", "a", "tier", "daily")
	want(t, fams, float64(later.Unix()+1), "strata_backup_last_run_timestamp_seconds", "job", "a", "tier", "daily")
	want(t, fams, 9, "strata_backup_added_bytes", "job", "b", "tier", "hourly")
	want(t, fams, 7, "strata_backup_added_bytes", "job", "a", "tier", "daily")
	want(t, fams, 4, "strata_snapshots", "tier", "daily")
	if _, ok := value(fams, "strata_snapshots", "tier", "old"); ok {
		t.Error("a tier with no snapshots left is still in the file")
	}
	if _, ok := fams["strata_runs_total"]; ok {
		t.Error("the daemon's run counter is in a command's file")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after a rewrite, want the operator's 0640", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d files, want the metrics file alone (no temporary file left)", len(ents))
	}
}

func TestTextfileRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.prom")
	text := []byte("this is not {{ a metrics file\n")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	s := metrics.New(metrics.Options{Version: "v"})
	s.ObserveCheck(metrics.Check{End: time.Now()})
	err := s.WriteTextfile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("WriteTextfile over a foreign file: %v, want an error naming it and what to do", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, text) {
		t.Error("the foreign file was changed")
	}
}

func TestRepositoryState(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	for i, tier := range []string{"hourly", "hourly", "daily"} {
		_, err := archive.BackupStream(ctx, r, strings.NewReader(strings.Repeat("x", 1000*(i+1))), "s.txt",
			archive.Options{Host: "h", Tier: tier, Time: base.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := metrics.RepositoryState(ctx, r, be)
	if err != nil {
		t.Fatal(err)
	}
	if st.Snapshots["hourly"] != 2 || st.Snapshots["daily"] != 1 || len(st.Snapshots) != 2 {
		t.Errorf("snapshots per tier %v, want hourly 2, daily 1", st.Snapshots)
	}
	if !st.Newest["hourly"].Equal(base.Add(time.Hour)) {
		t.Errorf("newest hourly %v, want %v", st.Newest["hourly"], base.Add(time.Hour))
	}
	if st.StoredBytes < 1000 {
		t.Errorf("stored bytes %d: less than the data", st.StoredBytes)
	}
}
