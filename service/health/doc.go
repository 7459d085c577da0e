// Package health judges whether a repository's backups are what its jobs
// promise: per job and tier the age of the newest snapshot against its
// limit, the number of snapshots against the retention policy, missing
// slots in the tier's series (gaps), the last check's and each source's
// last drill's result and age, and the repository's storage use against
// its thresholds; per source the RPO (age of the newest snapshot) and the
// RTO (the last drill's restore time).
//
// It sits above the repository, retention and the audit trail (where
// check and verify drill record their results) and beside notify: the
// CLI's `strata health` prints a Report (text, JSON or one Nagios status
// line), and the daemon calls Tracker.Update after each run, which sends
// notify's unhealthy, recovered and storage_threshold events when a
// finding appears, worsens or ends.
//
// Words:
//   - status: OK, warning, critical, unknown, with Nagios' exit codes 0 to
//     3; a report's status is its worst finding's.
//   - series: the snapshots of one source and tier, which one job makes.
//   - limit (max age): how old a series' newest snapshot may get; by
//     default the interval of its schedule (or tier) plus two hours of
//     grace, so a daily series is critical after 26 hours and warns an
//     hour before.
//   - slot: a calendar period of the tier (an hour, a day, an ISO week, a
//     month, a year) or one interval of the schedule; a gap is a slot
//     that passed (by more than the grace) without a snapshot.
//   - pending: a job without a snapshot whose first due time plus its
//     limit lies ahead; OK, with a note, so that a fresh install pages
//     no one.
//   - state folder: the daemon's (service/state); one it cannot write is
//     critical.
//   - finding: one thing health calls warning or critical, with a stable
//     ID ("age customers-daily", "storage") that transitions are tracked
//     by.
//
// Evaluate is pure (inputs and a clock in, report out); Gather reads the
// inputs from a repository.
package health
