package main

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags in front of its arguments, so
// `strata restore latest --target DIR` works as restic users expect;
// urfave/cli stops reading flags at the first argument. Everything after
// "--" stays an argument.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// Global flags, then the command and any subcommand.
	var cmd *cli.Command
	commands := app.Commands
	flags := app.Flags
	// --json in front of the command, where restic's global --json goes,
	// is handed to the command below when it has one.
	var earlyJSON []string
	for i < len(args) {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			if cmd != nil {
				break // the command's own flags and arguments follow
			}
			if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name == "json" && !known(app.Flags, a) {
				earlyJSON = append(earlyJSON, a)
				i++
				continue
			}
			out = append(out, a)
			if takesValue(flags, a) && i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
			i++
			continue
		}
		next := findCommand(commands, a)
		if next == nil {
			break
		}
		cmd = next
		out = append(out, a)
		commands, flags = cmd.Subcommands, cmd.Flags
		i++
	}
	if cmd == nil {
		return args
	}
	var cmdFlags, globalFlags, positional []string
	if known(cmd.Flags, "--json") {
		cmdFlags = earlyJSON
	} else {
		globalFlags = earlyJSON // refused as an unknown flag
	}
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			// A global flag after the command (`backup -q`) goes in front.
			dst := &cmdFlags
			if !known(flags, a) && known(app.Flags, a) {
				dst = &globalFlags
			}
			*dst = append(*dst, a)
			if takesValue(append(flags, app.Flags...), a) && i+1 < len(args) {
				*dst = append(*dst, args[i+1])
				i++
			}
			continue
		}
		positional = append(positional, a)
	}
	out = append(append([]string{out[0]}, globalFlags...), out[1:]...)
	out = append(out, cmdFlags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// takesValue reports whether the flag token a needs the next token as its
// value: a known non-boolean flag written without "=".
func takesValue(flags []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// known reports whether the flag token a names one of flags.
func known(flags []cli.Flag, a string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// verboseArgs spells restic's forms of the verbosity, -vv, -vvv and
// --verbose=N, as the repeated -v that the flag parser counts. Arguments
// after "--" belong to another program and stay as they are.
func verboseArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		n := 0
		switch {
		case len(a) > 2 && strings.Trim(a[1:], "v") == "" && a[0] == '-':
			n = len(a) - 1
		case strings.HasPrefix(a, "--verbose="):
			if v, err := strconv.Atoi(strings.TrimPrefix(a, "--verbose=")); err == nil && v >= 0 {
				n = v
				if n == 0 {
					continue
				}
			}
		}
		if n == 0 {
			out = append(out, a)
			continue
		}
		for range n {
			out = append(out, "-v")
		}
	}
	return out
}
