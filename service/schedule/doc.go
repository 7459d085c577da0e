// Package schedule parses the schedules of strata.yaml's jobs, checks and
// drills and says when each runs next.
//
// Layer: service, beside service/config; it knows nothing of repositories
// or the CLI. The daemon asks Next for the next run, health asks Interval
// for the age a job's newest snapshot may reach.
//
// Words: a schedule is a spec (cron's five fields "minute hour
// day-of-month month day-of-week", a descriptor such as @daily, or
// "@every DURATION") read in a time zone (the spec's CRON_TZ= prefix, else
// the zone it is parsed with). A run is one instant the schedule fires at.
//
// Cron fields follow Vixie cron (man 5 crontab): numbers, ranges a-b,
// lists a,b, steps */n, a-b/n and a/n; month and weekday names (jan, mon);
// weekday 0 or 7 is Sunday; when both day-of-month and day-of-week are
// restricted, a day matching either fires. Descriptors: @hourly, @daily
// (@midnight), @weekly (Sunday 00:00), @monthly (the 1st, 00:00), @yearly
// (@annually).
//
// Daylight saving time, as Vixie cron and systemd handle it: a wall-clock
// time skipped when clocks go forward runs at the same distance past the
// change (02:30 on a day that jumps from 02:00 to 03:00 runs at 03:30), so a
// daily job is never lost; a time that occurs twice when clocks go back runs
// once, at its first occurrence, unless the schedule fires every hour (hour
// field "*"), which then runs at both, an hour apart. "@every" counts real
// time and knows no zone: its runs are the multiples of the duration since
// the zero time (UTC), so "@every 1h" runs on the hour, "@every 10s" at :00,
// :10 ... of each minute.
package schedule
