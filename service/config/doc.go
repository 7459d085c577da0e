// Package config reads strata.yaml, the file that runs strata as a
// service: the repository and where its password comes from, the sources
// to back up, the jobs that bind a source to a tier and a schedule, the
// retention policy, check and drill schedules, hooks, notification
// channels, health limits, and where the daemon keeps its state, serves its
// dashboard and writes its metrics.
//
// Layer: service. It imports repo/retention (to map the retention section
// onto a retention.Policy) and service/schedule (to check schedules), and
// nothing that opens a repository: the CLI, the daemon, notifications,
// health, metrics and the dashboard read the types here and do the work.
//
// Words: a source is what is backed up (a database by DSN, paths, a
// command's output, standard input); a job backs up one source on a
// schedule into a tier; a channel is one place notifications go; an event
// is what happened (backup_failed, unhealthy, ...), with a severity (info,
// warning, critical).
//
// Secrets never live in the file: passwords, tokens and webhook URLs are
// named by *_env (an environment variable) or *_file (a file holding it),
// and the repository password also by password_command. An inline
// repository "password:" is accepted but Validate warns about it.
//
// Load reads the file strictly: an unknown key is an error naming its path
// and line with the nearest known key, "version: 1" is required, and
// Validate's errors name the file, the line and the key path
// ("strata.yaml:12: jobs[1].schedule: ...").
package config
