// Package proctest holds what the tests of processes that outlive the
// command which started them share (internal/procgroup's, and the CLI's
// tests of hooks, command sources and the daemon): a command whose
// process escapes its process group, reading the PID a process wrote to
// a file, and telling whether a process has ended.
//
// Words: a PID file holds one PID and a newline; an escaped process is
// one that left the command's process group and session (setsid) while
// holding the command's output.
package proctest
