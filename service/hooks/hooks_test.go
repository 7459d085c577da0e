package hooks

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var env = Env{Job: "hourly", Kind: "backup", Tier: "hourly", Source: "postgres://app:s3cret@db/shop",
	Repository: "s3:https://key:topsecret@minio/bucket", Snapshot: "abc123", Result: "succeeded"}

func TestCommandSeesJobNotSecrets(t *testing.T) {
	r := &Runner{Environ: []string{"PATH=/usr/bin:/bin", "STRATA_PASSWORD=pw1", "STRATA_PASSWORD_FILE=/x", "PGPASSWORD=pw2",
		"MYSQL_PWD=pw3", "DB_PASS=pw4", "KEEP=kept"}, Secrets: []string{"DB_PASS"}}
	var log bytes.Buffer
	err := r.Run(context.Background(), After, []Hook{{Command: "env | sort; echo to-stderr >&2"}}, env, &log)
	if err != nil {
		t.Fatal(err)
	}
	out := log.String()
	for _, want := range []string{"STRATA_JOB=hourly\n", "STRATA_TIER=hourly\n", "STRATA_SNAPSHOT=abc123\n", "STRATA_KIND=backup\n",
		"STRATA_SOURCE=postgres://app:***@db/shop\n", "STRATA_REPOSITORY=s3:https://key:***@minio/bucket\n",
		"STRATA_RESULT=succeeded\n", "STRATA_ERROR=\n", "KEEP=kept\n", "to-stderr\n", "hook after #1: env | sort"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"pw1", "pw2", "pw3", "pw4", "s3cret", "topsecret", "STRATA_PASSWORD"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

func TestBeforeStopsAtFirstFailureOthersRunAll(t *testing.T) {
	r := &Runner{}
	dir := t.TempDir()
	hooks := []Hook{{Command: "echo one >>" + dir + "/ran"}, {Command: "echo failing; exit 3"}, {Command: "echo three >>" + dir + "/ran"}}
	var log bytes.Buffer
	err := r.Run(context.Background(), Before, hooks, env, &log)
	if err == nil || !strings.Contains(err.Error(), "before hook #2") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("before: %v", err)
	}
	if !strings.Contains(log.String(), "failing") {
		t.Fatalf("log: %s", log.String())
	}
	if got := readRan(t, dir); got != "one\n" {
		t.Fatalf("before ran %q, want only the first", got)
	}
	// continue_on_error: the failure is logged, the next hooks run.
	cont := append([]Hook(nil), hooks...)
	cont[1].ContinueOnError = true
	if err := r.Run(context.Background(), Before, cont, env, io.Discard); err != nil {
		t.Fatalf("before with continue_on_error: %v", err)
	}
	if got := readRan(t, dir); got != "one\none\nthree\n" {
		t.Fatalf("before with continue_on_error ran %q", got)
	}
	err = r.Run(context.Background(), Failure, hooks, env, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "failure hook #2") {
		t.Fatalf("failure: %v", err)
	}
	if got := readRan(t, dir); got != "one\none\nthree\none\nthree\n" {
		t.Fatalf("failure hooks ran %q, want all three", got)
	}
}

func readRan(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	r := &Runner{}
	_ = r.Run(context.Background(), After, []Hook{{Command: "cat " + dir + "/ran"}}, env, &buf)
	_, out, _ := strings.Cut(buf.String(), "\n")
	return out
}

// A command past its timeout is killed with the commands it started,
// which held its output open.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	r := &Runner{}
	var log bytes.Buffer
	start := time.Now()
	err := r.Run(context.Background(), After, []Hook{{Command: "sleep 60 & sleep 60", Timeout: 200 * time.Millisecond}}, env, &log)
	if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("hook took %v: the background sleep was not killed", d)
	}
}

func TestHTTPHook(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Job")+" "+r.Header.Get("Content-Type")+" "+string(b))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "no such check", http.StatusNotFound)
			return
		}
		w.Write([]byte("OK"))
	}))
	defer srv.Close()
	r := &Runner{}
	var log bytes.Buffer
	hooks := []Hook{
		{URL: srv.URL + "/ping/${STRATA_JOB}?err=${STRATA_ERROR}", Method: "GET"},
		{URL: srv.URL + "/event"},
		{URL: srv.URL + "/hook", Header: map[string]string{"X-Job": "${STRATA_JOB}"}, Body: `{"job":"${STRATA_JOB}","snapshot":"${STRATA_SNAPSHOT}","other":"${HOME}"}`},
		{URL: srv.URL + "/fail", Method: "PUT"},
	}
	e := env
	e.Error = "a b&c"
	err := r.Run(context.Background(), Failure, hooks, e, &log)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "PUT") {
		t.Fatalf("err %v", err)
	}
	want := []string{
		"GET /ping/hourly?err=a+b%26c   ",
		`POST /event  application/json {"hook":"failure","job":"hourly","kind":"backup","tier":"hourly","source":"postgres://app:***@db/shop","repository":"s3:https://key:***@minio/bucket","snapshot":"abc123","result":"succeeded","error":"a b\u0026c"}`,
		`POST /hook hourly application/json {"job":"hourly","snapshot":"abc123","other":"${HOME}"}`,
		`PUT /fail  application/json {"hook":"failure","job":"hourly","kind":"backup","tier":"hourly","source":"postgres://app:***@db/shop","repository":"s3:https://key:***@minio/bucket","snapshot":"abc123","result":"succeeded","error":"a b\u0026c"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(log.String(), "200 OK\nOK\n") || !strings.Contains(log.String(), "no such check") {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestHTTPHookTimeoutAndToken(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	r := &Runner{}
	var log bytes.Buffer
	err := r.Run(context.Background(), After, []Hook{{URL: srv.URL + "/x?token=sekrit", Method: "GET", Timeout: 100 * time.Millisecond}}, env, &log)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error()+log.String(), "sekrit") {
		t.Fatalf("the URL's token leaked: %v\n%s", err, log.String())
	}
}
