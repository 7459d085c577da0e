package health

import (
	"fmt"
	"strings"
)

// Status is a finding's or a report's verdict; its value is the Nagios
// plugin exit code.
type Status int

// The statuses; OK < Warning < Critical, and Unknown when health could not
// judge (the repository could not be read).
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status's name.
func (s *Status) UnmarshalText(b []byte) error {
	for _, v := range []Status{OK, Warning, Critical, Unknown} {
		if v.String() == strings.ToLower(string(b)) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown health status %q", b)
}

// worse returns the worse of a and b: critical over warning over unknown
// over OK.
func worse(a, b Status) Status {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func rank(s Status) int {
	switch s {
	case Warning:
		return 2
	case Critical:
		return 3
	case Unknown:
		return 1
	}
	return 0
}
