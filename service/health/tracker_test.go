package health

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/service/notify"
)

func kinds(evs []notify.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Kind)+":"+e.Severity.String()+":"+e.Check)
	}
	return strings.Join(s, ",")
}

func TestTrackerTransitions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	tr := &Tracker{Dir: dir, Host: "db1"}
	at := now
	step := func(fs ...Finding) []notify.Event {
		t.Helper()
		at = at.Add(time.Hour)
		evs, err := tr.Update(&Report{Time: at, Findings: fs})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	age := func(s Status) Finding {
		return Finding{ID: "age db-daily", Status: s, Message: "db-daily: old", Job: "db-daily", Tier: "daily", Source: "db"}
	}
	storage := func(s Status) Finding { return Finding{ID: "storage", Status: s, Message: "storage: full"} }

	if got := step(); got != nil {
		t.Fatalf("healthy start: %v", kinds(got))
	}
	if got := kinds(step(age(Warning))); got != "unhealthy:warning:age db-daily" {
		t.Fatalf("appears: %s", got)
	}
	if got := step(age(Warning)); got != nil {
		t.Fatalf("repeated: %s", kinds(got))
	}
	if got := kinds(step(age(Critical), storage(Warning))); got != "unhealthy:critical:age db-daily,storage_threshold:warning:storage" {
		t.Fatalf("worsens: %s", got)
	}
	if got := step(age(Warning), storage(Warning)); got != nil {
		t.Fatalf("eases: %s", kinds(got))
	}
	// A restarted daemon (a new Tracker on the same folder) remembers.
	tr = &Tracker{Dir: dir, Host: "db1"}
	got := step(storage(Critical))
	if kinds(got) != "storage_threshold:critical:storage,recovered:warning:age db-daily" {
		t.Fatalf("recovers: %s", kinds(got))
	}
	rec := got[1]
	if rec.Job != "db-daily" || rec.Host != "db1" || !strings.Contains(rec.Message, "OK again after 4h") {
		t.Errorf("recovered event %+v", rec)
	}
	if got := kinds(step()); got != "recovered:critical:storage" {
		t.Fatalf("storage recovers: %s", got)
	}
	fi, err := os.Stat(filepath.Join(dir, StateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("state folder mode %v", di.Mode())
	}
	// A damaged state file starts afresh: the findings are sent again and
	// the error says so.
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	evs, err := tr.Update(&Report{Time: at, Findings: []Finding{age(Critical)}})
	if err == nil || !strings.Contains(err.Error(), "damaged") || kinds(evs) != "unhealthy:critical:age db-daily" {
		t.Fatalf("%v %s", err, kinds(evs))
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"version":1,"time":"2026-12-07T12:00:00Z","findings":{"storage":{"status":"warning","since":"2026-12-07T11:00:00Z","message":"x"}}}`))
	f.Add([]byte(`{"version":1,"findings":{"a":{"status":"ok"}}}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		for id, fd := range st.Findings {
			if fd.Status != Warning && fd.Status != Critical {
				t.Fatalf("accepted finding %q with status %v", id, fd.Status)
			}
		}
	})
}
