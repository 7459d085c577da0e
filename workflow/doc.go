// Package workflow is what strata does, as a library: open a repository,
// take its lock, back up files, standard input or a database, forget,
// prune, check, drill and count. Each workflow takes a typed request and
// returns a typed report; the CLI (cmd/strata) parses flags into the
// request and prints the report, and a daemon or a dashboard calls the
// same functions.
//
// Layer: above repo, repo/archive, dbexport and their engines, which it
// chooses through the registries repo/backend/registry (storage, by
// repository URL scheme) and dbexport/engine (databases, by DSN scheme);
// below cmd/strata and the service packages. It knows nothing of flags,
// terminals or exit codes.
//
// Logging: every request takes a *slog.Logger (nil discards). Records
// use these levels:
//
//   - LevelFile (below Debug): one line per file or table handled (-vv).
//   - slog.LevelDebug: the steps of a workflow (-v).
//   - slog.LevelInfo: what an operator should see without asking, such
//     as waiting for another process's lock.
//   - slog.LevelWarn: notices: something strata did otherwise than asked,
//     or a schema warning.
//   - slog.LevelError: damage skipped to go on (a damaged index file).
//
// Words: request, report, lock (shared or exclusive; docs/design.md,
// "Locks"), index, snapshot, source, tier, as in docs/design.md.
package workflow
