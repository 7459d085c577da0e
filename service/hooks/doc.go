// Package hooks runs the commands and HTTP requests strata.yaml attaches
// to a job: before it, after it (whatever its result), on its success and
// on its failure.
//
// Layer: a service package below service/daemon; it knows nothing of
// repositories or schedules, only of a job's name, tier, source,
// repository, snapshot and error (Env), which it hands to each hook.
//
// Words: a hook is one command (run with `sh -c`) or one HTTP request; a
// Set holds a job's hooks by when they run (Before, After, Success,
// Failure). A command hook sees the daemon's environment without its
// secrets (every STRATA_* variable, PGPASSWORD, MYSQL_PWD and the
// variables strata.yaml names as password sources) plus STRATA_JOB,
// STRATA_KIND, STRATA_TIER, STRATA_SOURCE, STRATA_REPOSITORY (user info
// masked), STRATA_SNAPSHOT, STRATA_RESULT and STRATA_ERROR; an HTTP hook
// may use the same names as ${STRATA_JOB} in its URL, headers and body.
// Every hook's output (a command's stdout and stderr, a response's status
// and first bytes) is written to the run's log. A hook has a timeout
// (DefaultTimeout): a command still running then gets SIGTERM with its
// whole process group, and SIGKILL StopGrace later; the daemon's stop ends
// a running Before hook the same way. The group dies with the daemon even
// when that is killed with SIGKILL (internal/procgroup).
//
// A failing Before hook fails the job, which then does not run; the other
// hooks' failures are written to the run's log and returned, and do not
// change the job's result.
package hooks
