package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefuses: no listening beyond loopback on a generated token,
// and no token too short to withstand guessing.
func TestServeRefuses(t *testing.T) {
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
