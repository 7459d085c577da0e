package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
)

func cmdKey(g *globals) *cli.Command {
	var newPasswordFile string
	newPwFlag := &cli.StringFlag{Name: "new-password-file", Usage: "read the new password from `FILE`", Destination: &newPasswordFile}
	return &cli.Command{
		Name:  "key",
		Usage: "manage the passwords (key files) that open the repository",
		Description: `Each key file wraps the repository's master key with one password.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list key files",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action: func(c *cli.Context) error {
					return g.withReader(c.Context, "key list", func(r *repo.Repository) error {
						keys, err := r.Keys(c.Context)
						if err != nil {
							return err
						}
						if c.Bool("json") {
							if keys == nil {
								keys = []repo.KeyInfo{}
							}
							return printJSON(g.env.stdout, keys)
						}
						t := newTable(g.env.stdout, " ID", "User", "Host", "Created")
						for _, k := range keys {
							mark := " "
							if k.Current {
								mark = "*"
							}
							if k.Damaged != "" {
								t.row(mark+shortKey(k.Name), "damaged: "+k.Damaged, "", "")
								continue
							}
							t.row(mark+shortKey(k.Name), k.Username, k.Hostname, showTime(k.Created))
						}
						return t.flush()
					})
				},
			},
			{
				Name:  "add",
				Usage: "add a password",
				Flags: []cli.Flag{newPwFlag},
				Action: func(c *cli.Context) error {
					return g.withWriterNoIndex(c.Context, false, "key add", func(r *repo.Repository) error {
						pw, err := g.newPassword(newPasswordFile)
						if err != nil {
							return err
						}
						name, err := r.AddKey(c.Context, pw)
						if err != nil {
							return err
						}
						fmt.Fprintf(g.env.stdout, "saved new key %s\n", name[:8])
						return nil
					})
				},
			},
			{
				Name:      "remove",
				Usage:     "remove a key file (not the one in use)",
				ArgsUsage: "ID",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("give the key ID: strata key remove ID")
					}
					return g.withWriterNoIndex(c.Context, true, "key remove", func(r *repo.Repository) error {
						name, err := findKey(c, r, c.Args().First())
						if err != nil {
							return err
						}
						if err := r.RemoveKey(c.Context, name); err != nil {
							return err
						}
						fmt.Fprintf(g.env.stdout, "removed key %s\n", shortKey(name))
						return nil
					})
				},
			},
			{
				Name:  "passwd",
				Usage: "change the password of the key in use",
				Flags: []cli.Flag{newPwFlag},
				Action: func(c *cli.Context) error {
					return g.withWriterNoIndex(c.Context, true, "key passwd", func(r *repo.Repository) error {
						pw, err := g.newPassword(newPasswordFile)
						if err != nil {
							return err
						}
						name, err := r.ChangePassword(c.Context, pw)
						if err != nil {
							return err
						}
						fmt.Fprintf(g.env.stdout, "password changed; new key %s\n", name[:8])
						return nil
					})
				},
			},
		},
	}
}

// shortKey is the first 8 characters of a key file's name (a name that
// is not an ID may be shorter).
func shortKey(name string) string { return name[:min(8, len(name))] }

func findKey(c *cli.Context, r *repo.Repository, prefix string) (string, error) {
	keys, err := r.Keys(c.Context)
	if err != nil {
		return "", err
	}
	var found []string
	for _, k := range keys {
		if k.Name == prefix {
			return k.Name, nil // a whole name, even one that begins another
		}
		if len(prefix) <= len(k.Name) && k.Name[:len(prefix)] == prefix {
			found = append(found, k.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no key %q (see strata key list)", prefix)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: key %q matches %s", repo.ErrAmbiguous, prefix, counted(len(found), "key"))
	}
}
