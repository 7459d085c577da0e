// Package retention decides which snapshots a retention policy keeps. It
// is pure logic over snapshot times, hosts, sources, tags and tiers: no
// I/O, no clock (the newest snapshot of a group is "now" for the
// keep-within rules). It sits above repo only for *repo.Snapshot; the
// repository stores a policy as opaque JSON (repo.StoredPolicy) that
// DecodePolicy reads, and the CLI's forget command glues the two.
//
// Words (docs/design.md, "Retention policy and protections"): policy, rule
// (keep-last, keep-hourly ... keep-yearly, keep-within, keep-within-hourly
// ... keep-within-yearly, keep-tag, keep-tier), bucket (the calendar hour,
// day, ISO week, month or year a snapshot falls in, in the policy's time
// zone), group (snapshots of one host and source, by default), decision
// (keep or remove, with every reason), protection (a snapshot that is
// always kept).
package retention
