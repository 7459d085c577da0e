package retention

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Policy says which snapshots to keep; a snapshot is kept if any rule
// keeps it. Counts are numbers of snapshots (Last) or of calendar buckets
// that hold a snapshot (Hourly ... Yearly, and tiers named after a
// period); 0 turns a rule off and -1 means unlimited, as in restic.
//
// The JSON encoding is what a repository stores (docs/design.md,
// "Retention policy and protections"); zero rules are left out.
type Policy struct {
	Last    int `json:"last,omitempty"`
	Hourly  int `json:"hourly,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
	Yearly  int `json:"yearly,omitempty"`

	Within        Duration `json:"within,omitzero"`
	WithinHourly  Duration `json:"within_hourly,omitzero"`
	WithinDaily   Duration `json:"within_daily,omitzero"`
	WithinWeekly  Duration `json:"within_weekly,omitzero"`
	WithinMonthly Duration `json:"within_monthly,omitzero"`
	WithinYearly  Duration `json:"within_yearly,omitzero"`

	// Tags keeps every snapshot that carries any of them.
	Tags []string `json:"tags,omitempty"`
	// Tiers maps a snapshot tier to a count: for a tier named after a
	// period (hourly, daily, weekly, monthly, yearly), the newest snapshot
	// of that tier in each of the last N buckets of the period; for any
	// other tier, the N newest snapshots of it.
	Tiers map[string]int `json:"tiers,omitempty"`

	// Safety is how long safety snapshots (tagged TagPreRestore or
	// TagPreOp: taken by restore --replace and guard just before they
	// change a database) are kept whatever the other rules say, counted
	// from the snapshot's time. nil means DefaultSafety (policies stored
	// before this field existed have none); a zero Duration turns it off.
	// It is not a rule of its own: a policy with only Safety is empty.
	Safety *Duration `json:"safety,omitempty"`
}

// The tags of safety snapshots.
const (
	TagPreRestore = "pre-restore" // restore --replace, before it replaces tables
	TagPreOp      = "pre-op"      // guard, before it runs its command
)

// DefaultSafety is the safety period of a policy that names none: 7 days.
func DefaultSafety() Duration { return Duration{Days: 7} }

// SafetyPeriod is p.Safety, or DefaultSafety when p names none.
func (p Policy) SafetyPeriod() Duration {
	if p.Safety == nil {
		return DefaultSafety()
	}
	return *p.Safety
}

// DefaultPolicy is a policy to start from (forget applies none by
// itself: without flags or a stored policy it removes nothing): 24
// hourly, 30 daily, 12 weekly and 12 monthly snapshots, and the same
// numbers for the tiers of those names.
func DefaultPolicy() Policy {
	return Policy{
		Hourly: 24, Daily: 30, Weekly: 12, Monthly: 12,
		Tiers: map[string]int{"hourly": 24, "daily": 30, "weekly": 12, "monthly": 12},
	}
}

// ErrEmptyPolicy: a policy without any rule would remove every snapshot.
var ErrEmptyPolicy = errors.New("the policy has no rule and would remove every snapshot")

// Empty reports whether p has no rule at all.
func (p Policy) Empty() bool {
	for _, n := range p.counts() {
		if n.n != 0 {
			return false
		}
	}
	for _, d := range p.durations() {
		if !d.d.IsZero() {
			return false
		}
	}
	return len(p.Tags) == 0 && len(p.Tiers) == 0
}

// Validate checks counts, durations, tags and tier names.
func (p Policy) Validate() error {
	for _, c := range p.counts() {
		if c.n < -1 {
			return fmt.Errorf("--%s %d: want a count, or -1 for unlimited", c.flag, c.n)
		}
	}
	for _, d := range p.durations() {
		if err := d.d.validate(); err != nil {
			return fmt.Errorf("--%s: %w", d.flag, err)
		}
	}
	for _, tag := range p.Tags {
		if tag == "" {
			return errors.New("--keep-tag: empty tag")
		}
	}
	if p.Safety != nil {
		if err := p.Safety.validate(); err != nil {
			return fmt.Errorf("--keep-safety: %w", err)
		}
	}
	for name, n := range p.Tiers {
		if err := validTierName(name); err != nil {
			return err
		}
		if n == 0 || n < -1 {
			return fmt.Errorf("--keep-tier %s=%d: want a count above 0, or -1 for unlimited", name, n)
		}
	}
	return nil
}

func validTierName(name string) error {
	if name == "" || strings.ContainsAny(name, "=, \t\n") {
		return fmt.Errorf("--keep-tier: invalid tier name %q", name)
	}
	return nil
}

type countRule struct {
	flag string
	n    int
}

// counts lists the count rules in the order of their flags.
func (p Policy) counts() []countRule {
	return []countRule{
		{"keep-last", p.Last}, {"keep-hourly", p.Hourly}, {"keep-daily", p.Daily},
		{"keep-weekly", p.Weekly}, {"keep-monthly", p.Monthly}, {"keep-yearly", p.Yearly},
	}
}

type durationRule struct {
	flag string
	d    Duration
}

// durations lists the keep-within rules in the order of their flags.
func (p Policy) durations() []durationRule {
	return []durationRule{
		{"keep-within", p.Within}, {"keep-within-hourly", p.WithinHourly},
		{"keep-within-daily", p.WithinDaily}, {"keep-within-weekly", p.WithinWeekly},
		{"keep-within-monthly", p.WithinMonthly}, {"keep-within-yearly", p.WithinYearly},
	}
}

// String writes p as the forget flags that express it, for example
// "--keep-hourly 24 --keep-daily 30 --keep-tier hourly=24,daily=30".
func (p Policy) String() string {
	var out []string
	for _, c := range p.counts() {
		if c.n != 0 {
			out = append(out, "--"+c.flag, strconv.Itoa(c.n))
		}
	}
	for _, d := range p.durations() {
		if !d.d.IsZero() {
			out = append(out, "--"+d.flag, d.d.String())
		}
	}
	for _, tag := range p.Tags {
		out = append(out, "--keep-tag", tag)
	}
	if len(p.Tiers) > 0 {
		out = append(out, "--keep-tier", FormatTiers(p.Tiers))
	}
	if len(out) == 0 {
		return "(no rules)"
	}
	if p.Safety != nil {
		out = append(out, "--keep-safety", p.Safety.String())
	}
	return strings.Join(out, " ")
}

// ParseTiers reads "hourly=24,daily=30" (the --keep-tier flag).
func ParseTiers(s string) (map[string]int, error) {
	tiers := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, count, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("--keep-tier %q: want TIER=COUNT pairs separated by commas, like hourly=24,daily=30", s)
		}
		if err := validTierName(name); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(count)
		if err != nil || n == 0 || n < -1 {
			return nil, fmt.Errorf("--keep-tier %s=%s: want a count above 0, or -1 for unlimited", name, count)
		}
		if _, dup := tiers[name]; dup {
			return nil, fmt.Errorf("--keep-tier %q names tier %s twice", s, name)
		}
		tiers[name] = n
	}
	return tiers, nil
}

// FormatTiers writes tiers as ParseTiers reads them: the period tiers
// from hourly to yearly first, then the others by name.
func FormatTiers(tiers map[string]int) string {
	names := make([]string, 0, len(tiers))
	for name := range tiers {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := periodRank(names[i]), periodRank(names[j])
		if pi != pj {
			return pi < pj
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + strconv.Itoa(tiers[name])
	}
	return strings.Join(parts, ",")
}

// EncodePolicy is the JSON a repository stores for p.
func EncodePolicy(p Policy) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// DecodePolicy reads a stored policy and validates it. Unknown fields are
// an error, not ignored: a rule written by a newer strata that this one
// skipped would make forget remove snapshots that rule keeps.
func DecodePolicy(data []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return Policy{}, fmt.Errorf("policy: %w: a rule this strata does not know, written by a newer one? Upgrade before running forget", err)
		}
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	if dec.More() {
		return Policy{}, errors.New("policy: data after the JSON object")
	}
	if err := p.Validate(); err != nil {
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}
