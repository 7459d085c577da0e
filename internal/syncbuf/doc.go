// Package syncbuf holds Buffer, where a test collects what a process or
// goroutine under test writes (a server's or a daemon's output, a log)
// while the test reads it.
package syncbuf
