// Package jobs turns strata.yaml (service/config) into the jobs the
// daemon runs (service/daemon) and does their work through the workflow
// library: a backup of a source, a check, a drill, a forget (and prune).
//
// Layer: between service/config and workflow below, and cmd/strata
// (strata daemon, strata schedule) above. It knows nothing of flags or
// terminals.
//
// Words: the jobs of strata.yaml are backups, one per jobs[] entry and
// named by it; the check, drill and retention sections add jobs named
// "check", "drill" and "forget" (forget on retention's schedule, or
// without one after every successful backup, as a run of its own).
// Hooks of the file's hooks section run around every job, before the
// job's own (after them for after, success and failure).
package jobs
