// Package backendtest is the conformance suite for backend.Storage: Run
// checks every promise of the interface's contract (write-once atomic
// Save, ranged Load, exact listings, sentinel errors, invalid handles,
// concurrency, cancellation) against a backend. Every backend and every
// wrapper calls Run from its tests, so they all behave alike.
//
// Layer: test support under repo/backend; it imports package backend and
// testing, never a backend implementation.
//
// Words: storage (the backend under test), handle, file type (see package
// backend).
package backendtest
