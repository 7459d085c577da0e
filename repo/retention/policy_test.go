package retention

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want Duration
		err  bool
	}{
		{"2d", Duration{Days: 2}, false},
		{"36h", Duration{Hours: 36}, false},
		{"1y6m", Duration{Years: 1, Months: 6}, false},
		{"1y2m3d4h", Duration{1, 2, 3, 4}, false},
		{"0d", Duration{}, false},
		{"", Duration{}, true},
		{"2", Duration{}, true},
		{"d", Duration{}, true},
		{"2w", Duration{}, true},
		{"3d1y", Duration{}, true}, // out of order
		{"1d2d", Duration{}, true}, // twice
		{"-1d", Duration{}, true},
		{"1 d", Duration{}, true},
		{"99999999999999999999d", Duration{}, true},
		{"1000001y", Duration{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParseDuration(%q) = %v, %v; want error %v", tt.in, got, err, tt.err)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParseDuration(got.String())
			if err != nil || again != got {
				t.Errorf("ParseDuration(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParseTiers(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]int
		err  bool
	}{
		{"hourly=24,daily=30", map[string]int{"hourly": 24, "daily": 30}, false},
		{"manual=-1", map[string]int{"manual": -1}, false},
		{" daily=7 , weekly=4", map[string]int{"daily": 7, "weekly": 4}, false},
		{"daily", nil, true},
		{"daily=", nil, true},
		{"daily=0", nil, true},
		{"daily=-2", nil, true},
		{"=3", nil, true},
		{"daily=1,daily=2", nil, true},
		{"daily=1,", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTiers(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParseTiers(%q) = %v, %v; want error %v", tt.in, got, err, tt.err)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseTiers(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPolicyString(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{DefaultPolicy(), "--keep-hourly 24 --keep-daily 30 --keep-weekly 12 --keep-monthly 12 --keep-tier hourly=24,daily=30,weekly=12,monthly=12"},
		{Policy{Last: 3, Within: Duration{Days: 2}, WithinHourly: Duration{Hours: 36}, Tags: []string{"a", "b"}},
			"--keep-last 3 --keep-within 2d --keep-within-hourly 36h --keep-tag a --keep-tag b"},
		{Policy{Yearly: -1, Tiers: map[string]int{"zeta": 1, "alpha": 2, "yearly": 3}}, "--keep-yearly -1 --keep-tier yearly=3,alpha=2,zeta=1"},
		{Policy{}, "(no rules)"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestPolicyJSON(t *testing.T) {
	for _, p := range []Policy{
		DefaultPolicy(),
		{Last: 1, WithinMonthly: Duration{Years: 1, Months: 2}, Tags: []string{"billing"}},
		{Yearly: -1},
	} {
		b, err := EncodePolicy(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodePolicy(b)
		if err != nil {
			t.Fatalf("DecodePolicy(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip of %s: got %+v, want %+v", b, got, p)
		}
	}
	b, _ := json.Marshal(Policy{Daily: 7, Within: Duration{Days: 2}})
	if string(b) != `{"daily":7,"within":"2d"}` {
		t.Errorf("policy JSON is %s", b)
	}
	for _, bad := range []string{
		`{"daily":7,"keep_fortnightly":2}`, // a rule from a newer strata
		`{"daily":-3}`,
		`{"within":"2x"}`,
		`{"tiers":{"daily":0}}`,
		`{"daily":7} {}`,
		`[]`,
	} {
		if _, err := DecodePolicy([]byte(bad)); err == nil {
			t.Errorf("DecodePolicy(%s) accepted it", bad)
		}
	}
	if _, err := DecodePolicy([]byte(`{"daily":7,"keep_fortnightly":2}`)); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("an unknown rule gives %v, want advice to upgrade", err)
	}
	if _, err := EncodePolicy(Policy{Daily: -5}); err == nil {
		t.Error("EncodePolicy accepted an invalid policy")
	}
}

// TestPolicySafetyField: a stored policy without "safety" (written before
// the field existed) keeps safety snapshots for the default period; one
// with it keeps them for its own, "0h" for none.
func TestPolicySafetyField(t *testing.T) {
	for in, want := range map[string]Duration{
		`{"daily":7}`:                  DefaultSafety(),
		`{"daily":7,"safety":"3d"}`:    {Days: 3},
		`{"daily":7,"safety":"0h"}`:    {},
		`{"daily":7,"safety":"1m12h"}`: {Months: 1, Hours: 12},
	} {
		p, err := DecodePolicy([]byte(in))
		if err != nil {
			t.Fatalf("DecodePolicy(%s): %v", in, err)
		}
		if got := p.SafetyPeriod(); got != want {
			t.Errorf("DecodePolicy(%s).SafetyPeriod() = %v, want %v", in, got, want)
		}
		enc, err := EncodePolicy(p)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := DecodePolicy(enc); err != nil || again.SafetyPeriod() != want {
			t.Errorf("%s encoded as %s reads back as %v, %v", in, enc, again.SafetyPeriod(), err)
		}
	}
	if _, err := DecodePolicy([]byte(`{"daily":7,"safety":"7x"}`)); err == nil {
		t.Error("a safety period of 7x was accepted")
	}
}
