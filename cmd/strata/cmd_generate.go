package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// cmdGenerate writes shell completion scripts and man pages, both made
// from the command definitions, so they cannot drift from the commands.
func cmdGenerate(g *globals) *cli.Command {
	var shell, manDir string
	return &cli.Command{
		Name:  "generate",
		Usage: "write shell completion or man pages",
		Description: `--completion bash|zsh|fish prints a completion script for that shell on
stdout (commands, subcommands and each command's flags). --man DIR writes
one man page per command into DIR (strata.1, strata-backup.1, ...).
make install installs both.

Exit codes: 0 ok, 1 error.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "completion", Usage: "print the completion script for `SHELL` (bash, zsh or fish)", Destination: &shell},
			&cli.StringFlag{Name: "man", Usage: "write man pages into `DIR`", Destination: &manDir},
		},
		Action: func(c *cli.Context) error {
			if (shell == "") == (manDir == "") {
				return errors.New("give --completion bash|zsh|fish or --man DIR")
			}
			app := c.App
			if manDir != "" {
				return writeManPages(app, manDir, g)
			}
			var script string
			switch shell {
			case "bash":
				script = bashCompletion(app)
			case "zsh":
				script = zshCompletion(app)
			case "fish":
				script = fishCompletion(app)
			default:
				return fmt.Errorf("invalid --completion %q: want bash, zsh or fish", shell)
			}
			_, err := fmt.Fprint(g.env.stdout, script)
			return err
		},
	}
}

// commandPath is one command or subcommand with the words that call it.
type commandPath struct {
	words []string // "key", "add"
	cmd   *cli.Command
}

// allCommands lists every visible command and subcommand, depth first.
func allCommands(cmds []*cli.Command, prefix []string) []commandPath {
	var out []commandPath
	for _, c := range cmds {
		if c.Hidden || c.Name == "help" {
			continue
		}
		words := append(append([]string{}, prefix...), c.Name)
		out = append(out, commandPath{words: words, cmd: c})
		out = append(out, allCommands(c.Subcommands, words)...)
	}
	return out
}

// flagWords returns "--name" and "-n" for each flag.
func flagWords(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

func writeManPages(app *cli.App, dir string, g *globals) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pages := map[string]string{"strata.1": manPage(app, nil)}
	for _, cp := range allCommands(app.Commands, nil) {
		cp := cp
		pages["strata-"+strings.Join(cp.words, "-")+".1"] = manPage(app, &cp)
	}
	for name, page := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(page), 0o644); err != nil {
			return err
		}
	}
	g.printf("wrote %s into %s\n", counted(len(pages), "man page"), dir)
	return nil
}
