// Package monitor joins the daemon to notifications and health: it is a
// subscriber of the daemon's events (service/daemon) that sends each run's
// start and end to the notification channels (service/notify), and after
// each run evaluates the repository's health (service/health) and sends
// what changed (unhealthy, recovered, storage threshold crossed).
//
// Layer: above daemon, notify and health; below cmd/strata, which builds
// a Monitor from strata.yaml and subscribes it. Nothing here blocks the
// daemon: notifications go out in the background, and health is
// evaluated in a goroutine of its own, one evaluation at a time, requests
// that arrive meanwhile folded into the next.
//
// Words: a job event is a daemon event turned into a notify.Event (its
// kind by the job's kind and result: backup_failed, check_damage, ...);
// the run ID becomes a UUID, which healthchecks pairs a start with its end
// by.
package monitor
