package main

import (
	"strings"
	"testing"
)

// TestRepoURL: --repo and STRATA_REPOSITORY take a storage URL; a bare
// path and "local:PATH" name the same folder.
func TestRepoURL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.vars["STRATA_REPOSITORY"] = "local:" + c.repo
	if _, errOut := c.code(0, "init"); !strings.Contains(errOut, "at local:"+c.repo) {
		t.Errorf("init names the repository how? %s", errOut)
	}
	id := c.backupStdin(sampleData(t), "dump.sql")
	c.vars["STRATA_REPOSITORY"] = c.repo
	if snaps := c.snapshots(); len(snaps) != 1 || !strings.HasPrefix(id, snaps[0].ShortID) {
		t.Fatalf("the bare path lists %+v, want snapshot %s", snaps, id)
	}
	c.ok("--repo", "local:"+c.repo, "check")
	c.code(1, "--repo", "local:"+c.repo, "init")
}

// TestRepoURLErrors: an unknown scheme is an error, not a folder named
// after it, and no message shows a password put into the URL.
func TestRepoURLErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dst := newCLI(t) // copy opens its destination first
	dst.ok("init")
	for _, tc := range []struct{ url, want string }{
		{"s4:https://user:hunter2@127.0.0.1:9000/bucket?token=hunter2", `unknown storage scheme "s4"`},
		{"local:", "no location"},
	} {
		for _, args := range [][]string{{"--repo", tc.url, "init"}, {"--repo", tc.url, "snapshots"},
			{"copy", "--from-repo", tc.url}, {"init", "--copy-chunker-params-from", tc.url}} {
			run := c
			if args[0] == "copy" {
				run = dst
			}
			_, errOut := run.code(1, args...)
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("strata %s: got %q, want %q", strings.Join(args, " "), errOut, tc.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("strata %s: the message shows the password: %s", strings.Join(args, " "), errOut)
			}
		}
	}
}

func TestRetryMaxRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.vars["STRATA_RETRY_MAX"] = "forever"
	if _, errOut := c.code(1, "snapshots"); !strings.Contains(errOut, "STRATA_RETRY_MAX") {
		t.Errorf("a bad STRATA_RETRY_MAX: %s", errOut)
	}
}
