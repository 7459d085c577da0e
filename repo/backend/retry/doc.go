// Package retry wraps a backend.Storage so that operations that fail for
// a passing reason (a timeout, a reset connection, a server error, a
// request to slow down) are tried again, after waits that grow
// exponentially with random jitter, for up to a few minutes in all;
// errors that would only repeat (backend.KindOf says Permanent) are
// returned at once. It is for remote storage: a local disk's errors do
// not pass with time.
//
// Layer: a wrapper under repo/backend, like faulty; it imports only
// package backend and the standard library.
//
// Words: attempt (one call of the inner storage), wait (the pause before
// the next attempt), budget (Options.MaxTime, the time one operation may
// spend on retries).
package retry
