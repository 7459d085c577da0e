// Package procgroup runs shell commands (strata.yaml's command hooks and
// command sources) so that nothing they start outlives strata: each runs
// in a process group of its own, which a cancelled context ends cleanly
// (SIGTERM to the whole group, SIGKILL to it after a grace period), and
// which dies with the strata process even when that is killed with
// SIGKILL and can clean up nothing; and what a command leaves running
// when it exits (`sleep 1000 &`) is ended then (Run, EndLeftovers).
// A process that left the group (setsid) cannot be signalled through it:
// when only such processes still hold a command's output, strata stops
// reading it and names them (ErrOutputHeld) rather than wait for them.
//
// Layer: a helper of the service packages (service/hooks, service/jobs);
// it knows nothing of jobs or repositories.
//
// How the group dies with strata: PR_SET_PDEATHSIG (SysProcAttr.Pdeathsig)
// is a property of one process and is not inherited by the processes it
// forks, so it alone would end `sh` but leave what sh started running.
// The command therefore runs under a small sh wrapper, the group's
// leader, whose parent-death signal is SIGHUP and whose trap for it kills
// the whole group with SIGKILL. The wrapper starts the command as
// `sh -c COMMAND` (the text is an argument, never spliced into the
// wrapper), waits for it, and exits with its status; it ignores SIGTERM
// and SIGINT for itself (a trap, which the command does not inherit), so
// that a clean stop reaches the command and the wrapper still reports how
// it ended.
//
// Words: group (the process group the wrapper leads), grace (how long a
// cancelled command has between SIGTERM and SIGKILL), holders (the
// processes that have the command's output open, read from /proc).
package procgroup
