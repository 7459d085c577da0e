package config

import (
	"errors"
	"fmt"
	"os"
)

// Warnings are what Validate accepts but advises against: an inline
// repository password, a secret file others can read, no password source.
func (c *Config) Warnings() []string {
	var out []string
	if c.Repository.Password != "" {
		out = append(out, c.fieldErr("repository.password", errors.New("the password is written in the file: anyone who can read it can read the backups; use password_file (mode 0600), password_env or password_command")).Error())
	}
	for _, f := range c.secretSources(secretFileKind) {
		if fi, err := os.Stat(f.name); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, c.fieldErr(f.path, fmt.Errorf("%s is readable by others (mode %#o): chmod 600 %s", f.name, fi.Mode().Perm(), f.name)).Error())
		}
	}
	if c.Repository.passwordSources() == 0 {
		out = append(out, c.fieldErr("repository", errors.New("no password_file, password_env or password_command: the CLI falls back to STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND or a prompt, and the daemon needs one of them")).Error())
	}
	return out
}

// secretRef is where the config reads one secret: the key's path and
// the file or environment variable that key names.
type secretRef struct{ path, name string }

// Kinds of secret sources: the *_file keys and the *_env keys.
const (
	secretFileKind = "file"
	secretEnvKind  = "env"
)

// secretSources are the files (kind secretFileKind) or environment
// variables (secretEnvKind) the config reads secrets from, with their keys.
func (c *Config) secretSources(kind string) []secretRef {
	var out []secretRef
	add := func(key, file, env string) {
		name := file
		if kind == secretEnvKind {
			name = env
		}
		if name != "" {
			out = append(out, secretRef{key + "_" + kind, name})
		}
	}
	add("repository.password", c.Repository.PasswordFile, c.Repository.PasswordEnv)
	for i, s := range c.Sources {
		add(fmt.Sprintf("sources[%d].password", i), s.PasswordFile, s.PasswordEnv)
	}
	if c.Drill != nil {
		add("drill.target_password", c.Drill.TargetPasswordFile, c.Drill.TargetPasswordEnv)
	}
	for i, ch := range c.Notifications.Channels {
		add(fmt.Sprintf("notifications.channels[%d].url", i), ch.URLFile, ch.URLEnv)
		if ch.SMTP != nil {
			add(fmt.Sprintf("notifications.channels[%d].smtp.password", i), ch.SMTP.PasswordFile, ch.SMTP.PasswordEnv)
		}
	}
	add("dashboard.token", c.Dashboard.TokenFile, c.Dashboard.TokenEnv)
	return out
}

// CheckSecrets says which secrets could not be read here: a *_file that
// does not exist or cannot be read, a *_env variable that getenv does not
// have. config validate prints them as warnings (the daemon may run as
// another user, in another environment); values are never read into the
// messages.
func (c *Config) CheckSecrets(getenv func(string) string) []string {
	var out []string
	for _, f := range c.secretSources(secretFileKind) {
		fh, err := os.Open(f.name)
		if err != nil {
			out = append(out, c.fieldErr(f.path, fmt.Errorf("cannot be read here: %w", err)).Error())
			continue
		}
		fh.Close()
	}
	for _, e := range c.secretSources(secretEnvKind) {
		if getenv(e.name) == "" {
			out = append(out, c.fieldErr(e.path, fmt.Errorf("environment variable %s is not set here", e.name)).Error())
		}
	}
	return out
}
