package notify

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"strata/service/config"
)

func TestFromConfig(t *testing.T) {
	rcv := newReceiver(t)
	urlFile := filepath.Join(t.TempDir(), "hc.url")
	if err := os.WriteFile(urlFile, []byte(rcv.URL+"/ping/daily\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRATA_TEST_SLACK_URL", rcv.URL+"/services/T/B/X")
	c, err := config.Parse([]byte(`version: 1
repository: {url: /srv/repo, password_env: PW}
sources: [{name: db, type: sqlite, dsn: "sqlite:///var/lib/app.db"}]
jobs: [{name: db-daily, source: db, tier: daily, schedule: "@daily"}]
notifications:
  channels:
    - {name: ops, type: slack, url_env: STRATA_TEST_SLACK_URL}
    - {name: all, type: webhook, url: "`+rcv.URL+`/all", min_severity: info, events: [backup_succeeded, backup_failed]}
    - {name: daily-ping, type: healthchecks, url_file: `+urlFile+`, jobs: [db-daily]}
    - name: mail
      type: smtp
      smtp: {host: 127.0.0.1, port: 2525, tls: none, from: a@example.com, to: [b@example.com]}
`), "strata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	chs, err := FromConfig(c, NewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 4 || chs[3].Type() != TypeEmail {
		t.Fatalf("%d channels", len(chs))
	}
	n, err := NewNotifier(chs[:3], fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	sent := func(e Event) map[string]bool {
		out := map[string]bool{}
		for _, r := range n.Send(context.Background(), e) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if !r.Skipped {
				out[r.Channel] = true
			}
		}
		return out
	}
	if got := sent(Event{Kind: BackupSucceeded, Job: "db-daily"}); got["ops"] || !got["all"] || !got["daily-ping"] {
		t.Errorf("backup succeeded went to %v", got)
	}
	if got := sent(Event{Kind: JobFailed, Job: "forget"}); !got["ops"] || !got["all"] || got["daily-ping"] {
		t.Errorf("forget failed went to %v", got)
	}
	if got := sent(Event{Kind: Unhealthy, Severity: Warning, Check: "storage"}); !got["ops"] || got["all"] || got["daily-ping"] {
		t.Errorf("unhealthy went to %v", got)
	}
	var pinged bool
	for _, r := range rcv.requests() {
		if r.Path == "/ping/daily" {
			pinged = true
		}
	}
	if !pinged {
		t.Error("the ping URL from the file was not pinged")
	}
	c.Notifications.Channels[0].MinSeverity = "loud"
	if _, err := FromConfig(c, NewOptions{}); err == nil {
		t.Error("min_severity loud taken")
	}
}
