package main

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"
)

// tierName is what a retention tier may be called: it is matched by
// policies and printed in tables, so no spaces, capitals or separators.
var tierName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// checkSnapshotFlags refuses labels a snapshot must not carry, before the
// repository is opened: --tier outside [a-z0-9_-]+, an empty --host or
// one with control characters, a --stdin-name that is not a plain file
// name, an empty --tag or one with control characters, and --jobs below 1. Flags the command does not have are skipped.
func checkSnapshotFlags(c *cli.Context) error {
	if c.IsSet("tier") {
		if t := c.String("tier"); !tierName.MatchString(t) {
			return fmt.Errorf("invalid --tier %q: use lower-case letters, digits, _ and - (hourly, daily, weekly, monthly)", t)
		}
	}
	if c.IsSet("host") {
		h := c.String("host")
		if strings.TrimSpace(h) == "" {
			return fmt.Errorf("empty --host: leave the flag out to record this machine's name")
		}
		if strings.IndexFunc(h, unicode.IsControl) >= 0 {
			return fmt.Errorf("invalid --host %q: it holds a control character", h)
		}
	}
	if c.IsSet("stdin-name") {
		n := c.String("stdin-name")
		if n == "" || n == "." || n == ".." || strings.ContainsRune(n, '/') || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			return fmt.Errorf("invalid --stdin-name %q: give a plain file name, without /, NUL, line breaks or other control characters (e.g. --stdin-name app.sql)", n)
		}
	}
	// Tags are matched by forget and printed in snapshots' columns: an
	// empty one matches nothing anyone can type, a line break splits the
	// table.
	if c.IsSet("tag") {
		for _, t := range c.StringSlice("tag") {
			if strings.TrimSpace(t) == "" || strings.IndexFunc(t, unicode.IsControl) >= 0 {
				return fmt.Errorf("invalid --tag %q: give a word without control characters or line breaks (e.g. --tag app)", t)
			}
		}
	}
	if c.IsSet("jobs") && c.Int("jobs") < 1 {
		return fmt.Errorf("invalid --jobs %d: give 1 or more", c.Int("jobs"))
	}
	return nil
}
