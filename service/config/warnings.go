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
	for _, f := range c.secretFiles() {
		if fi, err := os.Stat(f.file); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, c.fieldErr(f.path, fmt.Errorf("%s is readable by others (mode %#o): chmod 600 %s", f.file, fi.Mode().Perm(), f.file)).Error())
		}
	}
	if c.Repository.passwordSources() == 0 {
		out = append(out, c.fieldErr("repository", errors.New("no password_file, password_env or password_command: the CLI falls back to STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND or a prompt, and the daemon needs one of them")).Error())
	}
	return out
}

type secretFile struct{ path, file string }

// secretFiles are the files the config reads secrets from, with their keys.
func (c *Config) secretFiles() []secretFile {
	var out []secretFile
	add := func(path, file string) {
		if file != "" {
			out = append(out, secretFile{path, file})
		}
	}
	add("repository.password_file", c.Repository.PasswordFile)
	for i, s := range c.Sources {
		add(fmt.Sprintf("sources[%d].password_file", i), s.PasswordFile)
	}
	if c.Drill != nil {
		add("drill.target_password_file", c.Drill.TargetPasswordFile)
	}
	for i, ch := range c.Notifications.Channels {
		add(fmt.Sprintf("notifications.channels[%d].url_file", i), ch.URLFile)
		if ch.SMTP != nil {
			add(fmt.Sprintf("notifications.channels[%d].smtp.password_file", i), ch.SMTP.PasswordFile)
		}
	}
	add("dashboard.token_file", c.Dashboard.TokenFile)
	return out
}

// CheckSecrets says which secrets could not be read here: a *_file that
// does not exist or cannot be read, a *_env variable that getenv does not
// have. config validate prints them as warnings (the daemon may run as
// another user, in another environment); values are never read into the
// messages.
func (c *Config) CheckSecrets(getenv func(string) string) []string {
	var out []string
	for _, f := range c.secretFiles() {
		fh, err := os.Open(f.file)
		if err != nil {
			out = append(out, c.fieldErr(f.path, fmt.Errorf("cannot be read here: %w", err)).Error())
			continue
		}
		fh.Close()
	}
	for _, e := range c.secretEnvs() {
		if getenv(e.file) == "" {
			out = append(out, c.fieldErr(e.path, fmt.Errorf("environment variable %s is not set here", e.file)).Error())
		}
	}
	return out
}

// secretEnvs are the environment variables the config reads secrets
// from, with their keys (in secretFile's file field).
func (c *Config) secretEnvs() []secretFile {
	var out []secretFile
	add := func(path, name string) {
		if name != "" {
			out = append(out, secretFile{path, name})
		}
	}
	add("repository.password_env", c.Repository.PasswordEnv)
	for i, s := range c.Sources {
		add(fmt.Sprintf("sources[%d].password_env", i), s.PasswordEnv)
	}
	if c.Drill != nil {
		add("drill.target_password_env", c.Drill.TargetPasswordEnv)
	}
	for i, ch := range c.Notifications.Channels {
		add(fmt.Sprintf("notifications.channels[%d].url_env", i), ch.URLEnv)
		if ch.SMTP != nil {
			add(fmt.Sprintf("notifications.channels[%d].smtp.password_env", i), ch.SMTP.PasswordEnv)
		}
	}
	add("dashboard.token_env", c.Dashboard.TokenEnv)
	return out
}
