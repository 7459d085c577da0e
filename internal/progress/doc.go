// Package progress draws a one-line progress display (bytes, rate, ETA) on
// a terminal for the CLI. It draws nothing when its writer is not a
// terminal or the user asked for quiet, so pipes stay clean.
package progress
