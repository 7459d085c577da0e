package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// Usage errors: a mistyped command or flag, or an argument to a command
// that takes none, is one line naming what was typed, with a suggestion,
// and exit 1 — never a page of help, and never exit 0 (a cron job with a
// typo must fail).

// unknownCommand is CommandNotFound: urfave/cli only calls it, so the
// error is kept in g and returned by run.
func (g *globals) unknownCommand(c *cli.Context, name string) {
	cmds, parent := c.App.Commands, ""
	if !isRoot(c) && len(c.Command.Subcommands) > 0 {
		cmds, parent = c.Command.Subcommands, c.Command.Name+" "
	}
	var names []string
	for _, cmd := range cmds {
		if !cmd.Hidden {
			names = append(names, cmd.Name)
		}
	}
	suggestion := ""
	if near := nearest(name, names); near != "" {
		suggestion = ": did you mean " + parent + near + "?"
	}
	g.usageErr = fmt.Errorf("unknown command %q%s (see strata %shelp)", parent+name, suggestion, parent)
}

// isRoot reports whether c is the application's own context, not a
// command's.
func isRoot(c *cli.Context) bool { return c.Command == nil || c.Command.Name == c.App.Name }

// flagInError finds the flag named in a Go flag package error
// ("flag provided but not defined: -keep-dayly", "flag needs an argument:
// -repo", "invalid value "x" for flag -jobs: ...").
var flagInError = regexp.MustCompile(`(^|\s)-([A-Za-z0-9][\w.-]*)`)

// usageError is every command's OnUsageError: the error with the flag as
// it was typed, and for an unknown flag the nearest one.
func (g *globals) usageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	name := ""
	if m := flagInError.FindStringSubmatch(msg); m != nil {
		name = m[2]
		msg = strings.Replace(msg, m[0], m[1]+g.typedFlag(name), 1)
	}
	help := "strata --help"
	if !isRoot(c) {
		help = "strata " + typedCommand(c) + " --help"
	}
	if strings.HasPrefix(err.Error(), "flag provided but not defined: ") && name != "" {
		var names []string
		flags := c.App.Flags
		if !isRoot(c) {
			flags = append(append([]cli.Flag{}, c.Command.Flags...), c.App.Flags...)
		}
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		suggestion := ""
		if near := nearest(name, names); near != "" {
			suggestion = ": did you mean " + flagName(near) + "?"
		}
		return fmt.Errorf("unknown flag %s%s (see %s)", g.typedFlag(name), suggestion, help)
	}
	return fmt.Errorf("%s (see %s)", msg, help)
}

// typedCommand is the command of c with its parents, as typed: "repair
// index", where urfave/cli's FullName says "index" for a subcommand.
func typedCommand(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if !isRoot(ctx) {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

// typedFlag is the flag called name as the user wrote it: --keep-dayly,
// not the flag package's -keep-dayly.
func (g *globals) typedFlag(name string) string {
	for _, a := range g.args {
		if a == "--" {
			break
		}
		if dashes := len(a) - len(strings.TrimLeft(a, "-")); dashes > 0 && dashes <= 2 {
			if n, _, _ := strings.Cut(a[dashes:], "="); n == name {
				return a[:dashes] + name
			}
		}
	}
	return flagName(name)
}

// flagName writes a flag as help does: -r, --repo.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// nearest returns the candidate nearest to typed, or "" when none is
// near: at most a third of the word wrong (at least one edit allowed), or
// else typed is the start of exactly one candidate. A single letter is
// never near anything.
func nearest(typed string, candidates []string) string {
	if len(typed) < 2 {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if len(c) < 2 {
			continue
		}
		d := editDistance(strings.ToLower(typed), c)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= max(1, len(typed)/3) {
		return best
	}
	best = ""
	for _, c := range candidates {
		if len(typed) >= 3 && strings.HasPrefix(c, typed) {
			if best != "" {
				return "" // ambiguous
			}
			best = c
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours
// each cost one (so backpu is one edit from backup).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// setUsageErrors gives every command, at every depth, the one-line usage
// error.
func setUsageErrors(g *globals, cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = g.usageError
		if c.Action != nil && c.ArgsUsage == "" && len(c.Subcommands) == 0 {
			c.Action = refuseArgs(c.Action)
		}
		setUsageErrors(g, c.Subcommands)
	}
}

// refuseArgs wraps the action of a command that takes no arguments so
// that one given is an error, not silently ignored: "strata snapshots
// latest" or "check --read-data 1/10" would otherwise do something other
// than what was typed.
func refuseArgs(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			name := typedCommand(c)
			return fmt.Errorf("%s takes no arguments, got %q (see strata %s --help)", name, c.Args().First(), name)
		}
		return action(c)
	}
}

// requiredFlag is urfave/cli's error for a missing required flag:
// Required flag "db" not set.
var requiredFlag = regexp.MustCompile(`^Required flags? "([^"]+)" not set$`)

// requiredFlagError writes a missing required flag as the user types it:
// "required flag --db not set".
func requiredFlagError(err error) error {
	if err == nil {
		return nil
	}
	m := requiredFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	names := strings.Split(m[1], ", ")
	for i, n := range names {
		names[i] = flagName(n)
	}
	return fmt.Errorf("missing required flag %s", strings.Join(names, ", "))
}
