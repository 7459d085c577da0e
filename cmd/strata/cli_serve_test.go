package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefuses: no listening beyond loopback on a generated token,
// and no token too short to withstand guessing.
func TestServeRefuses(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.vars["HOME"] = t.TempDir()
	_, errOut := c.code(exitError, "serve", "--listen", "0.0.0.0:0")
	if !strings.Contains(errOut, "beyond this machine without a configured token") {
		t.Errorf("serve on 0.0.0.0 with a generated token:\n%s", errOut)
	}
	c.vars["STRATA_DASHBOARD_TOKEN"] = "short"
	_, errOut = c.code(exitError, "serve", "--listen", "127.0.0.1:0")
	if !strings.Contains(errOut, "too short") {
		t.Errorf("serve with a 5-character token:\n%s", errOut)
	}
}

// TestServeGeneratedToken: without a configured token, strata serve
// generates one into a 0600 file and prints its path, never the token.
func TestServeGeneratedToken(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	home := t.TempDir()
	c.vars["HOME"] = home
	base, errOut := c.startServe()
	path := filepath.Join(home, ".config", "strata", "dashboard-token")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file %s: %v, %v; want mode 0600", path, fi, err)
	}
	b, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(b))
	if !strings.Contains(errOut.String(), path) || strings.Contains(errOut.String(), token) {
		t.Errorf("stderr must name the token file and not hold the token:\n%s", errOut)
	}
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer " + token, http.StatusOK}} {
		req, _ := http.NewRequest("GET", base+"/", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET / with a token %v: %d, want %d", tc.auth != "", resp.StatusCode, tc.want)
		}
	}
}

// TestServeConfig: with --config, strata serve takes the dashboard's
// token from strata.yaml and shows forget's decisions under its retention.
func TestServeConfig(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	for _, at := range []string{"2026-03-01 10:00", "2026-03-01 11:00", "2026-03-01 12:00"} {
		c.backupStdin([]byte("rows at "+at), "db.sql", "--tier", "hourly", "--time", at)
	}
	cfg := filepath.Join(t.TempDir(), "strata.yaml")
	writeNew(t, cfg, []byte("version: 1\nrepository:\n  url: "+c.repo+"\n  password_file: "+c.pwFile+
		"\nretention:\n  keep_tiers: {hourly: 2}\ndashboard:\n  token_env: DASH_TOKEN\n"))
	const token = "config-token-0123456789abcdef0123456789"
	c.vars["DASH_TOKEN"] = token
	c.vars["STRATA_DASHBOARD_TOKEN"] = "not-this-one-0123456789abcdef0123456789"
	base, errOut := c.startServe("--config", cfg)
	if !strings.Contains(errOut.String(), "dashboard in "+cfg) {
		t.Errorf("serve does not say the token comes from the config:\n%s", errOut)
	}
	req, _ := http.NewRequest("GET", base+"/snapshots", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != 200 || !strings.Contains(body, "--keep-tier hourly=2") || strings.Count(body, `class="badge remove"`) != 1 {
		t.Errorf("snapshots page with the config's retention: %d\n%s", resp.StatusCode, body)
	}
}
