package metrics_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"strata/service/daemon"
	"strata/service/metrics"
	"strata/service/state"
)

// allFamilies are the names of every family a Set exposes once each kind
// of event was observed.
func allFamilies(t *testing.T) map[string]bool {
	t.Helper()
	s := metrics.New(metrics.Options{Version: "v"})
	now := time.Now()
	s.ObserveBackup(metrics.Backup{Job: "j", Tier: "daily", Start: now, End: now})
	s.ObserveBackup(metrics.Backup{Job: "k", Tier: "daily", Start: now, End: now, Err: errors.New("x")})
	s.ObserveCheck(metrics.Check{Start: now, End: now})
	s.ObserveDrill(metrics.Drill{End: now, Restored: true})
	s.ObserveCommand(metrics.Command{Name: "backup", Start: now, End: now})
	s.SetRepository(metrics.Repository{StoredBytes: 1, Locks: 1, Snapshots: map[string]int{"daily": 1}, Newest: map[string]time.Time{"daily": now}})
	s.Subscriber()(daemon.Event{Kind: daemon.Succeeded, Job: daemon.Job{Name: "f", Kind: "forget"}, Run: state.Run{Result: state.Succeeded, End: now}})
	fams, err := s.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	return names
}

var metricName = regexp.MustCompile(`\bstrata_[a-z_]+`)

// TestAlertRulesAndDashboard: docs/prometheus-alerts.yml and
// docs/grafana-dashboard.json parse, and name only metrics strata has.
func TestAlertRulesAndDashboard(t *testing.T) {
	known := allFamilies(t)
	check := func(where, expr string) {
		t.Helper()
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: %q names no strata metric", where, expr)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s: %q names %s, which strata does not expose", where, expr, n)
			}
		}
	}

	b, err := os.ReadFile("../../docs/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(bytesReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("docs/prometheus-alerts.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: want alert, severity and summary", r)
			}
			check("alert "+r.Alert, r.Expr)
		}
	}
	if n < 5 {
		t.Errorf("%d alert rules", n)
	}

	b, err = os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Name, Type, Query string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	if len(dash.Panels) < 5 {
		t.Errorf("%d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			check("variable "+v.Name, v.Query)
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
