// Package filter matches slash-separated paths against patterns, the way
// restic's --include and --exclude do. It is used by restore (which
// snapshot paths to write), file backups (which paths to leave out) and
// find (which snapshot paths to list).
//
// A pattern is split at "/" into parts; each part is a path.Match pattern
// ("*", "?", "[a-z]", "\\*"), and a part "**" matches any number of path
// parts, none included. A pattern that starts with "/" is anchored: it
// must match the whole path from the root. Any other pattern matches the
// last parts of a path, so "*.csv" matches every CSV file's base name at
// any depth and "exports/*.csv" matches "/var/lib/app/exports/a.csv".
//
// Callers decide what a match on a dir means: restore includes a matched
// dir's whole content, backup leaves a matched dir out with its content.
// This package knows nothing of repositories or the file system.
package filter
