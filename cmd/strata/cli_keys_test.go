package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"strata/repo"
)

// keys returns `key list --json`.
func (c *tcli) keys() []repo.KeyInfo {
	c.t.Helper()
	out := c.ok("key", "list", "--json")
	var keys []repo.KeyInfo
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		c.t.Fatalf("key list --json: %v\n%s", err, out)
	}
	return keys
}

// current returns the key marked current, failing unless exactly one is.
func current(t *testing.T, keys []repo.KeyInfo) repo.KeyInfo {
	t.Helper()
	var cur []repo.KeyInfo
	for _, k := range keys {
		if k.Current {
			cur = append(cur, k)
		}
	}
	if len(cur) != 1 {
		t.Fatalf("%d current keys, want 1: %+v", len(cur), keys)
	}
	return cur[0]
}

// as returns a harness on the same repository with another password file.
func (c *tcli) as(t *testing.T, pwFile string) *tcli {
	d := *c
	d.t = t
	d.pwFile = pwFile
	d.vars = map[string]string{}
	for k, v := range c.vars {
		d.vars[k] = v
	}
	d.vars["STRATA_PASSWORD_FILE"] = pwFile
	return &d
}

func TestKeyList(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	keys := c.keys()
	if len(keys) != 1 {
		t.Fatalf("%d keys after init, want 1", len(keys))
	}
	k := current(t, keys)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(k.Name) {
		t.Errorf("key id %q is not 64 hex characters", k.Name)
	}
	if k.Name != c.files("keys")[0] {
		t.Errorf("key id %s is not the name of the key file %s", k.Name, c.files("keys")[0])
	}
	if k.Created.IsZero() || k.Hostname == "" {
		t.Errorf("key list --json lacks created or hostname: %+v", k)
	}
	out := c.ok("key", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "ID") || !strings.HasPrefix(lines[2], "*"+k.Name[:8]) {
		t.Errorf("key list:\n%s\nwant a header, a rule and the current key marked *%s", out, k.Name[:8])
	}
}

func TestKeyAddRemovePasswd(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("some data\n"), "a.txt")
	first := current(t, c.keys()).Name
	dir := t.TempDir()
	pw2 := filepath.Join(dir, "pw2")
	writeFile0600(t, pw2, "second-password\n")

	out := c.ok("key", "add", "--new-password-file", pw2)
	m := regexp.MustCompile(`^saved new key ([0-9a-f]{8})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("key add printed %q", out)
	}
	keys := c.keys()
	if len(keys) != 2 || current(t, keys).Name != first {
		t.Fatalf("after key add: %+v, want 2 keys with the first current", keys)
	}
	second := keys[0].Name
	if second == first {
		second = keys[1].Name
	}
	if second[:8] != m[1] {
		t.Errorf("key add named %s, the new key is %s", m[1], second)
	}

	// The new password opens the repository, through STRATA_PASSWORD_FILE.
	c2 := c.as(t, pw2)
	if sns := c2.snapshots(); len(sns) != 1 {
		t.Errorf("with the new password: %d snapshots, want 1", len(sns))
	}
	if cur := current(t, c2.keys()).Name; cur != second {
		t.Errorf("with the new password the current key is %s, want %s", cur, second)
	}
	if got := c2.ok("dump", "latest", "/a.txt"); got != "some data\n" {
		t.Errorf("dump with the new password = %q", got)
	}

	// Neither password can remove the key it opened with.
	for _, tt := range []struct {
		c   *tcli
		key string
	}{{c, first}, {c2, second}} {
		_, errOut := tt.c.code(exitError, "key", "remove", tt.key[:8])
		if !strings.Contains(errOut, "refusing to remove key "+tt.key[:8]) || !strings.Contains(errOut, "key in use") {
			t.Errorf("key remove of the key in use: %q", errOut)
		}
	}
	if n := len(c.keys()); n != 2 {
		t.Fatalf("%d keys after refused removals, want 2", n)
	}
	_, errOut := c.code(exitError, "key", "remove", "ffffffff")
	if !strings.Contains(errOut, `no key "ffffffff"`) {
		t.Errorf("key remove of an unknown key: %q", errOut)
	}

	// The first password removes the second key; the second password then
	// no longer opens the repository.
	if out := c.ok("key", "remove", second[:8]); out != "removed key "+second[:8]+"\n" {
		t.Errorf("key remove printed %q", out)
	}
	if _, errOut := c2.code(exitWrongPass, "snapshots"); !strings.Contains(errOut, "wrong password or no key found") {
		t.Errorf("removed password: %q", errOut)
	}

	// key passwd replaces the key in use: the old password stops working.
	pw3 := filepath.Join(dir, "pw3")
	writeFile0600(t, pw3, "third-password\n")
	out = c.ok("key", "passwd", "--new-password-file", pw3)
	if !regexp.MustCompile(`^password changed; new key [0-9a-f]{8}\n$`).MatchString(out) {
		t.Errorf("key passwd printed %q", out)
	}
	if _, errOut := c.code(exitWrongPass, "snapshots"); !strings.HasPrefix(errOut, wrongPasswordMessage) {
		t.Errorf("old password after key passwd: %q", errOut)
	}
	c3 := c.as(t, pw3)
	keys = c3.keys()
	if len(keys) != 1 || keys[0].Name == first || !keys[0].Current {
		t.Errorf("after key passwd: %+v, want one new current key", keys)
	}
	if got := c3.ok("dump", "latest", "/a.txt"); got != "some data\n" {
		t.Errorf("dump with the changed password = %q", got)
	}
	if n := len(c3.files("keys")); n != 1 {
		t.Errorf("%d key files after key passwd, want 1", n)
	}
}

func TestKeyNewPasswordRejected(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	writeFile0600(t, empty, "\n")
	tests := []struct {
		name, file, want string
	}{
		{"missing file", filepath.Join(dir, "missing"), "reading new password file"},
		{"empty password", empty, "empty password"},
	}
	for _, tt := range tests {
		for _, sub := range []string{"add", "passwd"} {
			t.Run(tt.name+"/"+sub, func(t *testing.T) {
				_, errOut := c.as(t, c.pwFile).code(exitError, "key", sub, "--new-password-file", tt.file)
				if !strings.Contains(errOut, tt.want) {
					t.Errorf("stderr %q, want %q", errOut, tt.want)
				}
				if n := len(c.files("keys")); n != 1 {
					t.Errorf("%d key files, want the one of init", n)
				}
			})
		}
	}
	// Without --new-password-file and without a terminal there is nothing
	// to ask.
	_, errOut := c.code(exitError, "key", "add")
	if !strings.Contains(errOut, "no new password") {
		t.Errorf("key add without a password: %q", errOut)
	}
	c.ok("snapshots")
}

// TestCheckAdviceKeyFileNotNamedAsID: a copy of the key file stored under
// a name that is not its ID (one that begins the ID, one that is no ID at
// all) is damaged, and check advises `strata key remove` with its whole
// name, which removes it; check is then clean and the password opens.
// Before, check gave the first 8 characters, an ambiguous prefix of both
// files, and the repository was opened through the copy, whichever came
// first in the listing, so key remove refused it as the key in use. The
// only key file renamed is the key in use: check advises key passwd,
// which writes the key under its own name.
func TestCheckAdviceKeyFileNotNamedAsID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, copyAs string }{
		{"a prefix of the ID", ""},
		{"no ID", "ABCDEF.copy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.ok("init")
			key := c.onlyFile("keys")
			copyAs := tt.copyAs
			if copyAs == "" {
				copyAs = filepath.Base(key)[:4]
			}
			if err := os.WriteFile(filepath.Join(c.repo, "keys", copyAs), readFile(t, key), 0o600); err != nil {
				t.Fatal(err)
			}
			out, cmds := c.checkAdvice()
			if !slices.Equal(cmds, []string{"strata key remove " + copyAs}) {
				t.Fatalf("check advises %q, want strata key remove %s:\n%s", cmds, copyAs, out)
			}
			c.followAdvice(cmds)
			if names := c.files("keys"); !slices.Equal(names, []string{filepath.Base(key)}) {
				t.Fatalf("keys after the advice: %v, want only %s", names, filepath.Base(key))
			}
		})
	}
	t.Run("the only key renamed", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.ok("init")
		key := c.onlyFile("keys")
		if err := os.Rename(key, filepath.Join(c.repo, "keys", "mykey")); err != nil {
			t.Fatal(err)
		}
		out, cmds := c.checkAdvice()
		if len(cmds) == 0 || cmds[0] != "strata key passwd" || !strings.Contains(out, "key file keys/mykey is damaged") {
			t.Fatalf("check advises %q, want strata key passwd first:\n%s", cmds, out)
		}
		pw := filepath.Join(t.TempDir(), "new-pw")
		if err := os.WriteFile(pw, []byte("new-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok("key", "passwd", "--new-password-file", pw)
		c = c.as(t, pw)
		c.followAdvice(cmds[1:])
		if names := c.files("keys"); len(names) != 1 || names[0] == "mykey" {
			t.Fatalf("keys after the advice: %v", names)
		}
	})
}
