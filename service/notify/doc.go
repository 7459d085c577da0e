// Package notify tells people and monitors about what strata's jobs and
// health evaluation found: a backup that failed or succeeded, a repository
// that became unhealthy or recovered, a check that found damage, a drill
// that failed, storage use that crossed a threshold.
//
// It sits above the repository and the workflows and below the daemon and
// the CLI: it knows events and channels, nothing of how an event came to
// be. The daemon calls a Notifier on each job event, package health calls
// it on each change of health, and `strata notify test` calls Notifier.Test.
//
// Words:
//   - event: one thing that happened (Event), of a kind (Kind) and a
//     severity (Severity: info, warning, critical).
//   - channel: one place events go (Channel): a JSON webhook, a Slack or
//     Discord incoming webhook, email over SMTP, or healthchecks-style
//     pings (start, success and fail URLs).
//   - filter: which events a channel takes: a minimum severity (default
//     warning, so successes do not flood a channel), optionally a list of
//     kinds and a list of jobs. A recovered event carries the severity of
//     the problem it ends, so a channel that was told of a problem is told
//     of its end. Ping channels take every event of their jobs' runs.
//   - secret: a webhook URL (Slack's and Discord's carry their token in the
//     path) or an SMTP password. Secrets never appear in a log record, an
//     error or a report: channels are named by their name and type only.
//
// A channel that fails is retried with exponential backoff (honouring a
// 429's Retry-After), each attempt with its own timeout; the channels are sent to concurrently, so one that
// hangs or fails never delays another, and Notify never blocks its caller.
package notify
