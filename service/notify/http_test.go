package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// request is one request a receiver got.
type request struct {
	Method, Path, Query, ContentType, Header string
	Body                                     []byte
}

// receiver is a real HTTP server on loopback that records requests and
// answers each with the next of its answers (then 200/204).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	answers map[string][]int // path: status codes to answer, in order
	arrived chan request
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{answers: map[string][]int{}, arrived: make(chan request, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got := request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, ContentType: req.Header.Get("Content-Type"), Header: req.Header.Get("X-Token"), Body: body}
		r.mu.Lock()
		r.got = append(r.got, got)
		status := http.StatusOK
		if strings.Contains(req.URL.Path, "/api/webhooks/") {
			status = http.StatusNoContent // Discord's answer without ?wait=true
		}
		if a := r.answers[req.URL.Path]; len(a) > 0 {
			status, r.answers[req.URL.Path] = a[0], a[1:]
		}
		r.mu.Unlock()
		r.arrived <- got
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0.05")
		}
		if status == http.StatusNotFound {
			// A receiver that quotes the URL it was asked for.
			w.WriteHeader(status)
			io.WriteString(w, "no_service: "+req.URL.String())
			return
		}
		w.WriteHeader(status)
		if status == http.StatusOK && strings.Contains(req.URL.Path, "/services/") {
			io.WriteString(w, "ok") // Slack's answer
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

func (r *receiver) answer(path string, codes ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[path] = codes
}

func fastOptions() Options {
	return Options{Attempts: 4, Backoff: time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second, Host: "db1"}
}

func mustNotifier(t *testing.T, opts Options, cfgs ...Config) *Notifier {
	t.Helper()
	var chs []Channel
	for _, c := range cfgs {
		ch, err := New(c, NewOptions{})
		if err != nil {
			t.Fatal(err)
		}
		chs = append(chs, ch)
	}
	n, err := NewNotifier(chs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func failedBackup() Event {
	return Event{
		Kind: BackupFailed, Time: time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC),
		Job: "customers-hourly", Tier: "hourly", Source: "postgres://app@db1/customers",
		Message: "backup of postgres://app@db1/customers failed", Error: "connection refused",
		Duration: 1500 * time.Millisecond, Log: "line 1\nline 2 <b>&\nexport failed: connection refused\n",
	}
}

func TestWebhookSlackDiscordPayloads(t *testing.T) {
	rcv := newReceiver(t)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "hook", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/hook"}, Headers: map[string]Secret{"X-Token": {Env: "HOOK_TOKEN"}}},
		Config{Name: "ops", Type: TypeSlack, URL: Secret{Value: rcv.URL + "/services/T000/B000/XXXX"}},
		Config{Name: "dc", Type: TypeDiscord, URL: Secret{Value: rcv.URL + "/api/webhooks/123/tok"}},
	)
	t.Setenv("HOOK_TOKEN", "t0k")
	for _, r := range n.Send(context.Background(), failedBackup()) {
		if r.Err != nil || r.Skipped || r.Attempts != 1 {
			t.Fatalf("%s: %+v", r.Channel, r)
		}
	}
	byPath := map[string]request{}
	for _, r := range rcv.requests() {
		if r.Method != http.MethodPost || r.ContentType != "application/json" {
			t.Errorf("%s: %s with %q", r.Path, r.Method, r.ContentType)
		}
		byPath[r.Path] = r
	}

	var hook map[string]any
	decode(t, byPath["/hook"].Body, &hook)
	want := map[string]any{"event": "backup_failed", "severity": "critical", "job": "customers-hourly", "tier": "hourly",
		"host": "db1", "error": "connection refused", "time": "2026-12-07T03:00:00Z", "duration_seconds": 1.5,
		"title": "strata CRITICAL backup failed: customers-hourly"}
	for k, v := range want {
		if hook[k] != v {
			t.Errorf("webhook %s = %v, want %v", k, hook[k], v)
		}
	}
	if !strings.Contains(hook["log"].(string), "export failed") {
		t.Errorf("webhook log = %q", hook["log"])
	}
	if byPath["/hook"].Header != "t0k" {
		t.Errorf("webhook header X-Token = %q", byPath["/hook"].Header)
	}

	var slack struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields []struct{ Type, Text string } `json:"fields"`
		} `json:"blocks"`
	}
	decode(t, byPath["/services/T000/B000/XXXX"].Body, &slack)
	if !strings.Contains(slack.Text, "backup failed") || len(slack.Blocks) != 4 {
		t.Fatalf("slack message: %s", byPath["/services/T000/B000/XXXX"].Body)
	}
	if b := slack.Blocks[0]; b.Type != "header" || b.Text.Type != "plain_text" || b.Text.Text != "strata CRITICAL backup failed: customers-hourly" {
		t.Errorf("slack header block: %+v", b)
	}
	if f := slack.Blocks[2].Fields; len(f) == 0 || f[0].Type != "mrkdwn" || f[0].Text != "*Job*\ncustomers-hourly" {
		t.Errorf("slack fields: %+v", f)
	}
	if lg := slack.Blocks[3].Text.Text; !strings.HasPrefix(lg, "```") || !strings.Contains(lg, "&lt;b&gt;&amp;") {
		t.Errorf("slack log block (mrkdwn escaped): %q", lg)
	}

	var discord struct {
		Username string `json:"username"`
		Content  string `json:"content"`
		Embeds   []struct {
			Title, Description, Timestamp string
			Color                         int
			Fields                        []struct {
				Name, Value string
				Inline      bool
			}
		} `json:"embeds"`
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	decode(t, byPath["/api/webhooks/123/tok"].Body, &discord)
	if len(discord.Embeds) != 1 || discord.Username != "strata" || discord.AllowedMentions.Parse == nil || len(discord.AllowedMentions.Parse) != 0 {
		t.Fatalf("discord message: %s", byPath["/api/webhooks/123/tok"].Body)
	}
	e := discord.Embeds[0]
	if e.Color != 0xc62828 || e.Timestamp != "2026-12-07T03:00:00.000Z" || !strings.Contains(e.Description, "export failed") || e.Fields[0].Name != "Job" {
		t.Errorf("discord embed: %+v", e)
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

func TestDefaultFilterNoSuccessFlood(t *testing.T) {
	rcv := newReceiver(t)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "default", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/default"}},
		Config{Name: "all", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/all"}, Filter: Filter{MinSeverity: Info}},
		Config{Name: "damage-only", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/damage"}, Filter: Filter{Kinds: []Kind{CheckDamage}}},
		Config{Name: "other-job", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/other"}, Filter: Filter{Jobs: []string{"files-daily"}}},
		Config{Name: "hc", Type: TypeHealthchecks, URL: Secret{Value: rcv.URL + "/ping/abc"}},
	)
	events := []Event{
		{Kind: JobStarted, Job: "customers-hourly"},
		{Kind: BackupSucceeded, Job: "customers-hourly"},
		{Kind: BackupFailed, Job: "customers-hourly"},
		{Kind: Unhealthy, Severity: Warning, Check: "age customers-daily"},
		{Kind: Recovered, Severity: Warning, Check: "age customers-daily"},
		{Kind: CheckDamage, Job: "check"},
		{Kind: StorageThreshold, Severity: Warning},
	}
	for _, e := range events {
		for _, r := range n.Send(context.Background(), e) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	got := map[string][]string{}
	for _, r := range rcv.requests() {
		var e struct{ Event string }
		if r.Path == "/ping/abc" || strings.HasPrefix(r.Path, "/ping/") {
			got["hc"] = append(got["hc"], r.Path)
			continue
		}
		decode(t, r.Body, &e)
		got[r.Path] = append(got[r.Path], e.Event)
	}
	want := map[string][]string{
		"/default": {"backup_failed", "unhealthy", "recovered", "check_damage", "storage_threshold"},
		"/all":     {"backup_succeeded", "backup_failed", "unhealthy", "recovered", "check_damage", "storage_threshold"},
		"/damage":  {"check_damage"},
		"/other":   {"unhealthy", "recovered", "storage_threshold"},
		"hc":       {"/ping/abc/start", "/ping/abc", "/ping/abc/fail", "/ping/abc/fail"},
	}
	for k, w := range want {
		if strings.Join(got[k], ",") != strings.Join(w, ",") {
			t.Errorf("%s got %v, want %v", k, got[k], w)
		}
	}
}

func TestHealthchecksPings(t *testing.T) {
	rcv := newReceiver(t)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "hc", Type: TypeHealthchecks, URL: Secret{Env: "HC_URL"}},
		Config{Name: "kuma", Type: TypeHealthchecks, SuccessURL: Secret{Value: rcv.URL + "/api/push/k?status=up"}, FailURL: Secret{Value: rcv.URL + "/api/push/k?status=down"}},
	)
	t.Setenv("HC_URL", rcv.URL+"/ping/5bf9c4a2-3d27-4c3e-9b8e-1f0c7a6d2e11/")
	rid := "0f0e0d0c-0b0a-4908-8706-050403020100"
	longLog := strings.Repeat("x", 150_000) + "the end\n"
	for _, e := range []Event{
		{Kind: JobStarted, Job: "j", RunID: rid},
		{Kind: BackupSucceeded, Job: "j", RunID: rid, Log: "saved snapshot 1a2b3c4d\n"},
		{Kind: BackupFailed, Job: "j", RunID: "not-a-uuid", Log: longLog},
	} {
		for _, r := range n.Send(context.Background(), e) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	reqs := rcv.requests()
	if len(reqs) != 5 {
		t.Fatalf("%d pings, want 5", len(reqs))
	}
	var hc, kuma []request
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/ping/") {
			hc = append(hc, r)
		} else {
			kuma = append(kuma, r)
		}
	}
	base := "/ping/5bf9c4a2-3d27-4c3e-9b8e-1f0c7a6d2e11"
	if hc[0].Path != base+"/start" || hc[0].Query != "rid="+rid {
		t.Errorf("start ping %s?%s", hc[0].Path, hc[0].Query)
	}
	if hc[1].Path != base || hc[1].Query != "rid="+rid || string(hc[1].Body) != "saved snapshot 1a2b3c4d\n" || !strings.HasPrefix(hc[1].ContentType, "text/plain") {
		t.Errorf("success ping %s?%s %q %s", hc[1].Path, hc[1].Query, hc[1].Body, hc[1].ContentType)
	}
	if hc[2].Path != base+"/fail" || hc[2].Query != "" || len(hc[2].Body) > pingBodyMax || !strings.HasSuffix(string(hc[2].Body), "the end\n") {
		t.Errorf("fail ping %s?%s, %d bytes", hc[2].Path, hc[2].Query, len(hc[2].Body))
	}
	if len(kuma) != 2 || kuma[0].Query != "status=up" || kuma[1].Query != "status=down" {
		t.Errorf("explicit ping URLs: %d pings, first %s?%s", len(kuma), kuma[0].Path, kuma[0].Query)
	}
}

func TestRetries(t *testing.T) {
	rcv := newReceiver(t)
	rcv.answer("/flaky", 500, 503, 200)
	rcv.answer("/limited", 429, 200)
	rcv.answer("/gone", 410, 200)
	rcv.answer("/down", 500, 500, 500, 500, 500)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "flaky", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/flaky"}},
		Config{Name: "limited", Type: TypeSlack, URL: Secret{Value: rcv.URL + "/limited"}},
		Config{Name: "gone", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/gone"}},
		Config{Name: "down", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/down"}},
	)
	res := n.Send(context.Background(), failedBackup())
	want := []struct {
		attempts int
		ok       bool
	}{{3, true}, {2, true}, {1, false}, {4, false}}
	for i, r := range res {
		if r.Attempts != want[i].attempts || r.OK() != want[i].ok {
			t.Errorf("%s: %d attempts, err %v; want %d, ok %v", r.Channel, r.Attempts, r.Err, want[i].attempts, want[i].ok)
		}
	}
	if err := res[3].Err; err == nil || !strings.Contains(err.Error(), `"down" (webhook)`) || !strings.Contains(err.Error(), "500") {
		t.Errorf("error of a channel that stays down: %v", err)
	}
}

// TestOneChannelNeverBlocksOthers: a channel whose receiver hangs delays
// neither the caller of Notify nor another channel.
func TestOneChannelNeverBlocksOthers(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	rcv := newReceiver(t)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "hanging", Type: TypeWebhook, URL: Secret{Value: hanging.URL + "/x"}},
		Config{Name: "fine", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/fine"}},
	)
	n.Notify(failedBackup()) // returns at once: nothing to wait for here
	select {
	case r := <-rcv.arrived:
		if r.Path != "/fine" {
			t.Fatalf("got %s", r.Path)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the working channel got nothing while the other hung")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.Wait(ctx); err == nil {
		t.Fatal("Wait returned while a delivery still hung")
	}
}

// TestSecretsNeverInErrorsOrLogs: the token in a webhook URL's path
// appears neither in errors nor in log records, whether the connection
// fails or the receiver quotes the URL back.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	rcv := newReceiver(t)
	rcv.answer("/services/T1/B1/SECRETTOKEN", 404)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	opts := fastOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := mustNotifier(t, opts,
		Config{Name: "quoted", Type: TypeSlack, URL: Secret{Value: rcv.URL + "/services/T1/B1/SECRETTOKEN"}},
		Config{Name: "refused", Type: TypeDiscord, URL: Secret{Value: closed + "/api/webhooks/1/SECRETTOKEN?x=SECRETQUERY"}},
		Config{Name: "env", Type: TypeWebhook, URL: Secret{Env: "STRATA_TEST_UNSET_URL"}},
	)
	res := n.Send(context.Background(), failedBackup())
	for _, r := range res {
		if r.Err == nil {
			t.Fatalf("%s: no error", r.Channel)
		}
		if strings.Contains(r.Err.Error(), "SECRET") {
			t.Errorf("%s: error holds the secret: %v", r.Channel, r.Err)
		}
	}
	if res[1].Attempts != 4 {
		t.Errorf("refused connection: %d attempts, want 4 (retried)", res[1].Attempts)
	}
	if !strings.Contains(res[2].Err.Error(), "STRATA_TEST_UNSET_URL") {
		t.Errorf("unset variable not named: %v", res[2].Err)
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), "SECRET") {
		t.Errorf("log records hold the secret (or there are none):\n%s", logs.String())
	}
	if _, err := New(Config{Name: "bad", Type: TypeSlack, URL: Secret{Value: "ftp://SECRET/x"}}, NewOptions{}); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("bad url: %v", err)
	}
}

func TestNotifierTest(t *testing.T) {
	rcv := newReceiver(t)
	n := mustNotifier(t, fastOptions(),
		Config{Name: "a", Type: TypeWebhook, URL: Secret{Value: rcv.URL + "/a"}, Filter: Filter{Kinds: []Kind{CheckDamage}}},
		Config{Name: "b", Type: TypeHealthchecks, URL: Secret{Value: rcv.URL + "/b"}},
	)
	res, err := n.Test(context.Background(), "")
	if err != nil || len(res) != 2 || !res[0].OK() || !res[1].OK() || res[0].Skipped || res[1].Skipped {
		t.Fatalf("%+v %v", res, err)
	}
	if res, err := n.Test(context.Background(), "b"); err != nil || len(res) != 1 || res[0].Channel != "b" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := n.Test(context.Background(), "c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Fatalf("unknown channel: %v", err)
	}
	for _, r := range rcv.requests() {
		if r.Path == "/a" {
			var e struct{ Event string }
			decode(t, r.Body, &e)
			if e.Event != "test" {
				t.Errorf("test event: %q", e.Event)
			}
		}
	}
	if _, err := NewNotifier([]Channel{mustChannel(t, "x"), mustChannel(t, "x")}, Options{}); err == nil {
		t.Error("two channels of one name were taken")
	}
}

func mustChannel(t *testing.T, name string) Channel {
	c, err := New(Config{Name: name, Type: TypeWebhook, URL: Secret{Value: "http://127.0.0.1:1/x"}}, NewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hangingReceiver is a loopback server that takes each request and never
// answers until the test ends; it counts the requests and signals each
// on arrived.
func hangingReceiver(t *testing.T) (url string, requests *atomic.Int32, arrived chan struct{}) {
	t.Helper()
	requests = new(atomic.Int32)
	arrived = make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL + "/hook", requests, arrived
}

// TestHangingReceiverIsTriedEachAttempt: a receiver that takes the
// connection and never answers costs each attempt its own timeout, and
// is tried 4 times as one answering 500 is.
func TestHangingReceiverIsTriedEachAttempt(t *testing.T) {
	u, requests, _ := hangingReceiver(t)
	opts := fastOptions()
	opts.Timeout = 50 * time.Millisecond
	n := mustNotifier(t, opts, Config{Name: "hanging", Type: TypeWebhook, URL: Secret{Value: u}})
	res := n.Send(context.Background(), failedBackup())
	if res[0].Attempts != 4 || res[0].OK() {
		t.Fatalf("%d attempts, err %v; want 4 failed", res[0].Attempts, res[0].Err)
	}
	if got := requests.Load(); got != 4 {
		t.Errorf("the receiver got %d requests, want 4", got)
	}
}

// TestCloseAbandonsHangingDelivery: Close gives a delivery under way its
// grace, then abandons it, logging its channel and never its URL.
func TestCloseAbandonsHangingDelivery(t *testing.T) {
	u, _, arrived := hangingReceiver(t)
	var logs bytes.Buffer
	opts := fastOptions()
	opts.Timeout = time.Hour
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil)) // read once the delivery returned
	n := mustNotifier(t, opts, Config{Name: "hanging", Type: TypeWebhook, URL: Secret{Value: u}})
	n.Notify(failedBackup())
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace is over
	n.Close(ctx)
	if err := n.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "notification abandoned") || !strings.Contains(out, "channel=hanging") {
		t.Errorf("no abandonment naming the channel logged:\n%s", out)
	}
	if strings.Contains(out, "/hook") {
		t.Errorf("the log holds the URL:\n%s", out)
	}
}
