// Package systemd writes systemd units that run strata.yaml's jobs, for
// those who prefer the system's scheduler to `strata daemon` (as
// resticprofile's `schedule` commands do): a service and a timer per job,
// whose service runs `strata schedule run JOB` (hooks, run record and
// next due time as the daemon's), or one service running `strata daemon`.
//
// Layer: a service package beside service/daemon; it reads strata.yaml's
// schedules with service/schedule (five cron fields, @hourly...,
// "@every D", CRON_TZ=), as the daemon does, and knows systemd's unit
// syntax, nothing of repositories.
//
// Words: a unit is one file (strata-JOB.service, strata-JOB.timer,
// strata-daemon.service); OnCalendar is a timer's calendar expression
// (systemd.time(7)), into which Calendar translates a cron schedule. Cron
// fires when the day of month OR the day of week matches if both are
// restricted; systemd needs both to match in one expression, so such a
// schedule becomes two OnCalendar lines. "@every D" becomes
// OnActiveSec/OnUnitActiveSec. Every timer is Persistent=true: a run
// missed while the machine was off is caught up once at boot, as the
// daemon does. Every unit strata writes starts with Marker, and Remove
// removes only such files.
package systemd
