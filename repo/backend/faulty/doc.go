// Package faulty wraps a backend.Storage and injects failures at chosen
// points, for tests of how strata behaves when storage fails: a Save that
// fails (a full disk, a dead server), a torn write, a Load that fails or
// returns damaged bytes; and, for the retrying wrapper, the passing
// failures of remote storage (timeouts, resets, 503 SlowDown, 429, short
// reads, lost replies: transient.go). Without faults set it passes every
// call through unchanged, and passes backendtest.Run.
//
// Layer: test support under repo/backend, a wrapper like any other; it
// imports only package backend and the standard library.
//
// Words: inner storage (the wrapped one), fault (a failure set by a
// method), match (a function that picks the handles a fault applies to),
// torn write (a Save whose source fails after some bytes).
package faulty
