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
