package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Warnings are what Validate accepts but advises against: an inline
// repository password or webhook URL, a secret file others can read, no
// password source. They name keys, never secrets.
func (c *Config) Warnings() []string {
	var out []string
	for _, s := range c.inlineSecrets() {
		// The value is a secret: only its key is named.
		k := lastKey(s.Key)
		var why string
		switch {
		case s.Key == "repository.password":
			why = "the password is written in the file: anyone who can read it can read the backups; use password_file (mode 0600), password_env or password_command"
		case k == "url":
			why = "the URL is written in the file, and a webhook's URL is a secret (whoever knows it can post to it): use url_env or url_file (mode 0600)"
		default:
			why = fmt.Sprintf("the secret is written in the file: use %[1]s_env or %[1]s_file (mode 0600)", k)
		}
		out = append(out, c.fieldErr(s.Key, errors.New(why)).Error())
	}
	for _, f := range c.secretFiles() {
		if fi, err := os.Stat(f.Name); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, c.fieldErr(f.Key, fmt.Errorf("%s is readable by others (mode %#o): chmod 600 %s", f.Name, fi.Mode().Perm(), f.Name)).Error())
		}
	}
	if c.Repository.passwordSources() == 0 {
		out = append(out, c.fieldErr("repository", errors.New("no password_file, password_env or password_command: the CLI falls back to STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND or a prompt, and the daemon needs one of them")).Error())
	}
	return out
}

// CheckSecrets says which secrets could not be read here: a *_file that
// does not exist or cannot be read, a *_env variable that getenv does not
// have, wherever the config names it (EnvVars and its *_file twin walk
// every key, so a key added later is checked too). config validate prints them as warnings (the daemon may run as
// another user, in another environment); values are never read into the
// messages.
func (c *Config) CheckSecrets(getenv func(string) string) []string {
	var out []string
	for _, f := range c.secretFiles() {
		fh, err := os.Open(f.Name)
		if err != nil {
			out = append(out, c.fieldErr(f.Key, fmt.Errorf("cannot be read here: %w", err)).Error())
			continue
		}
		fh.Close()
	}
	for _, e := range c.EnvVars() {
		if getenv(e.Name) == "" {
			out = append(out, c.fieldErr(e.Key, fmt.Errorf("environment variable %s is not set here", e.Name)).Error())
		}
	}
	return out
}

// lastKey is the last key of path: "url" of "hooks.before[0].http.url".
func lastKey(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}
