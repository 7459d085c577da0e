package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// inlineURLConfig is a strata.yaml body whose notification channel and
// hooks have their webhook URLs written inline, each holding a token.
const inlineURLConfig = `hooks:
  failure:
    - http: {url: "https://hooks.example.com/TOKEN-GLOBAL"}
jobs:
  - name: j
    source: s
    hooks:
      success:
        - http:
            url: https://hooks.example.com/TOKEN-JOB
notifications:
  channels:
    - name: chat
      type: slack
      url: https://hooks.slack.com/services/T0/B0/TOKEN-SLACK
`

// inlineURLWarnings are the warnings inlineURLConfig gets after
// newDaemonEnv's first five lines and a source of two (hooks at line 8).
var inlineURLWarnings = []string{
	":10: hooks.failure[0].http.url: the URL is written in the file, and a webhook's URL is a secret (whoever knows it can post to it): use url_env or url_file (mode 0600)",
	":17: jobs[0].hooks.success[0].http.url: the URL is written in the file",
	":22: notifications.channels[0].url: the URL is written in the file",
}

// TestConfigInlineURLWarns: a webhook URL written in strata.yaml (a hook's
// or a notification channel's) is a secret in the file: config validate,
// any command that reads the file and the daemon (as it starts and as it
// reloads) warn of it, naming its key and line but never the URL. It was
// accepted silently.
func TestConfigInlineURLWarns(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	e.writeConfig("sources:\n  - {name: s, type: command, command: echo x}\n" + inlineURLConfig)
	noURL := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "TOKEN") {
			t.Errorf("%s prints a URL:\n%s", what, out)
		}
	}
	hasWarnings := func(what, out, prefix string) {
		t.Helper()
		for _, w := range inlineURLWarnings {
			if !strings.Contains(out, prefix+e.config+w) {
				t.Errorf("%s lacks %q:\n%s", what, prefix+e.config+w, out)
			}
		}
		noURL(what, out)
	}
	_, errOut := e.c.code(0, "config", "validate", e.config)
	hasWarnings("config validate", errOut, "warning: ")
	_, errOut = e.c.code(0, "--config", e.config, "snapshots")
	hasWarnings("snapshots --config", errOut, "notice: ")

	p := e.startDaemon()
	p.waitFor("the daemon to start", func() bool { return strings.Contains(p.log.String(), "only when asked") })
	hasWarnings("the daemon's log", p.log.String(), "")
	// A reloaded file is warned of too: here a URL added to a channel.
	e.writeConfig("sources:\n  - {name: s, type: command, command: echo x}\n" + inlineURLConfig +
		"    - {name: hook, type: webhook, url: 'https://hooks.example.com/TOKEN-NEW'}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reload", func() bool { return strings.Contains(p.log.String(), "config reloaded") })
	p.stop()
	if want := e.config + ":23: notifications.channels[1].url: the URL is written in the file"; !strings.Contains(p.log.String(), want) {
		t.Errorf("the reload's log lacks %q:\n%s", want, p.log.String())
	}
	noURL("the daemon's log", p.log.String())

	// Taken from the environment or a file, a URL is no warning.
	url := filepath.Join(e.dir, "url")
	if err := os.WriteFile(url, []byte("https://hooks.example.com/TOKEN-FILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.c.vars["CHAT_URL"] = "https://hooks.slack.com/services/T0/B0/TOKEN-ENV"
	e.writeConfig(`notifications:
  channels:
    - {name: chat, type: slack, url_env: CHAT_URL}
    - {name: hook, type: webhook, url_file: ` + url + `}
`)
	if _, errOut := e.c.code(0, "config", "validate", e.config); strings.Contains(errOut, "warning") {
		t.Errorf("warnings for URLs from the environment and a file:\n%s", errOut)
	}
}
