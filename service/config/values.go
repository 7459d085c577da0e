package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a span of time in the file: a Go duration ("90s", "36h",
// "1h30m") or whole days and weeks ("2d", "1w", "1d12h").
type Duration time.Duration

// ParseDuration reads a Duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration (want e.g. 90s, 36h or 2d)")
	}
	var total time.Duration
	rest := s
	// Days and weeks first, then what time.ParseDuration reads.
	for {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("duration %q: too large", s)
		}
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 90s, 36h, 2d or 1d12h", s)
		}
		total += d
	}
	if total < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return Duration(total), nil
}

// String formats d as ParseDuration reads it, with days when whole.
func (d Duration) String() string {
	td := time.Duration(d)
	if td == 0 {
		return "0s"
	}
	day := 24 * time.Hour
	if td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	out := td.String()
	// "1h30m0s" reads better as "1h30m", "2h0m0s" as "2h".
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// UnmarshalYAML reads a Duration from a scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return valueErr(n, errors.New("want a duration like 90s, 36h or 2d"))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return valueErr(n, err)
	}
	*d = v
	return nil
}

// MarshalYAML writes a Duration as ParseDuration reads it.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Size is a number of bytes in the file: a plain number, or one with a
// unit: KiB MiB GiB TiB (and K M G T) count in 1024s, KB MB GB TB in 1000s.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"P", 1 << 50},
	{"B", 1},
}

// ParseSize reads a Size.
func ParseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	num := s
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("size %q: want bytes, or a number with a unit like 500GiB or 2TB", s)
	}
	return Size(f * float64(mult)), nil
}

// String formats s in the largest binary unit that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// UnmarshalYAML reads a Size from a scalar.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return valueErr(n, errors.New("want a size like 500GiB"))
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return valueErr(n, err)
	}
	*s = v
	return nil
}

// MarshalYAML writes a Size as ParseSize reads it.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }

// valueErr is the error of a value at node n that does not decode: a
// *yaml.TypeError, which makes the decoder go on to the other keys (Parse
// lists every problem), saying the line as the decoder's own do.
func valueErr(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
}
