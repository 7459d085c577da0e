package main

import (
	"fmt"
	"time"
)

// displayLayout is how every table and message shows a time: local (or
// the policy's time zone, in forget), with its zone, so that two commands
// never show one snapshot's time two ways.
const displayLayout = "2006-01-02 15:04:05 MST"

// showTime formats t for a table or a message, in local time.
func showTime(t time.Time) string { return t.Local().Format(displayLayout) }

// inputLayouts are the local-time forms parseTime accepts, beside RFC 3339.
var inputLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// timeForms says what parseTime accepts, for error messages and help.
const timeForms = `"YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (local time) or RFC 3339 ("2025-06-17T14:00:00+02:00")`

// parseTime reads a time given on the command line (--time, --at,
// --until): RFC 3339, or a date with an optional time of day in local
// time; a date alone is the start of that day. flag names the flag in the
// error.
func parseTime(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range inputLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid %s %q: want %s", flag, s, timeForms)
}
