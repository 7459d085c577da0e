package daemon

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"strata/service/state"
)

func TestHTTPAPI(t *testing.T) {
	h := newHarness(t, t.TempDir(), t0.Add(time.Minute), job("daily", "/r", 24*time.Hour), job("manual", "/r", 0))
	h.d.jobs["manual"].job.Schedule = nil
	h.start()
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()
	get := func(path string, v any) int {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v\n%s", path, err, b)
			}
		}
		return resp.StatusCode
	}
	post := func(path string) int {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	time.Sleep(20 * time.Millisecond)
	// The raw keys: snake_case, as /api/runs's (they were Go's field
	// names, "Name", "NextDue").
	var jobs []map[string]any
	if code := get("/api/jobs", &jobs); code != 200 || len(jobs) != 2 || jobs[0]["name"] != "daily" || jobs[1]["next_due"] != nil {
		t.Fatalf("jobs %d %v", code, jobs)
	}
	for _, j := range jobs {
		for k := range j {
			if !snakeCase.MatchString(k) {
				t.Errorf("GET /api/jobs: key %q is not snake_case: %v", k, j)
			}
		}
	}
	if _, ok := jobs[0]["next_due"].(string); !ok || jobs[0]["waiting"] != false || jobs[0]["kind"] != "backup" || jobs[0]["repository"] != "/r" {
		t.Fatalf("GET /api/jobs: %v", jobs[0])
	}
	if code := post("/api/jobs/nope/run"); code != http.StatusNotFound {
		t.Fatalf("run now of an unknown job: %d", code)
	}
	if code := post("/api/jobs/manual/run"); code != http.StatusAccepted {
		t.Fatalf("run now: %d", code)
	}
	h.want(Started, "manual")
	e := h.want(Succeeded, "manual")
	var runs []state.Run
	if code := get("/api/runs?job=manual", &runs); code != 200 || len(runs) != 1 || runs[0].ID != e.Run.ID || runs[0].Log != "" {
		t.Fatalf("runs %d %+v", code, runs)
	}
	var run state.Run
	if code := get("/api/runs/"+e.Run.ID, &run); code != 200 || !strings.Contains(run.Log, "working") {
		t.Fatalf("run %d %+v", code, run)
	}
	if code := get("/api/runs/..%2fjobs", nil); code != http.StatusNotFound {
		t.Fatalf("a run ID with a slash: %d", code)
	}
}

// snakeCase is a JSON key of the API.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
