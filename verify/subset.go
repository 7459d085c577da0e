package verify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"strata/pack"
)

// Subset selects the packs whose data check reads. The zero Subset selects
// none; CheckOptions.ReadData selects all. Set either N and M or Percent.
type Subset struct {
	// N and M select group N of M: the packs whose position i (counted
	// from 0) in the list of indexed packs sorted by ID satisfies
	// i % M == N-1. Checking 1/M, 2/M, ... M/M on M days reads every pack
	// once.
	N, M int
	// Percent selects a random Percent% of the packs, at least one.
	Percent float64
}

// ParseSubset parses "n/m" (group n of m, 1 ≤ n ≤ m) or "p%" (a random p
// percent, 0 < p ≤ 100, decimals allowed), as given to --read-data-subset.
func ParseSubset(s string) (Subset, error) {
	bad := func(why string) (Subset, error) {
		return Subset{}, fmt.Errorf("invalid subset %q: %s; want \"n/m\" (group n of m, 1 ≤ n ≤ m, say 2/5) or \"p%%\" (a random p percent of the packs, 0 < p ≤ 100, say 10%% or 2.5%%)", s, why)
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad(fmt.Sprintf("%q is not a number", p))
		}
		if f <= 0 || f > 100 {
			return bad("the percentage is out of range")
		}
		return Subset{Percent: f}, nil
	}
	ns, ms, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no \"/\" or \"%\"")
	}
	n, errN := strconv.Atoi(ns)
	m, errM := strconv.Atoi(ms)
	if errN != nil || errM != nil {
		return bad("n and m must be whole numbers")
	}
	sub := Subset{N: n, M: m}
	if err := sub.validate(); err != nil {
		return bad(err.Error())
	}
	return sub, nil
}

// IsZero reports whether the subset selects nothing.
func (s Subset) IsZero() bool { return s == Subset{} }

// DataRead says what a check read of the packs' data, as strata health,
// the dashboard and a check run's summary show it: "read all data"
// (readData), "read data 10%" (a subset, as given: it wins over
// readData, as in CheckOptions), or "" (the structure alone).
func DataRead(readData bool, subset string) string {
	switch {
	case subset != "":
		return "read data " + subset
	case readData:
		return "read all data"
	}
	return ""
}

// String returns the subset in the form ParseSubset reads; "" for none.
func (s Subset) String() string {
	switch {
	case s.Percent != 0:
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
	case s.M != 0:
		return fmt.Sprintf("%d/%d", s.N, s.M)
	}
	return ""
}

func (s Subset) validate() error {
	switch {
	case s.IsZero():
		return nil
	case s.Percent != 0 && (s.N != 0 || s.M != 0):
		return fmt.Errorf("subset sets both n/m and a percentage")
	case s.Percent != 0:
		if math.IsNaN(s.Percent) || s.Percent <= 0 || s.Percent > 100 {
			return fmt.Errorf("subset percentage %v is out of range 0 < p ≤ 100", s.Percent)
		}
	case s.M < 1 || s.N < 1 || s.N > s.M:
		return fmt.Errorf("subset %d/%d: n must be between 1 and m", s.N, s.M)
	}
	return nil
}

// selectPacks reports, for each of packs (sorted by ID), whether the subset
// selects it; rng draws a percentage's packs.
func (s Subset) selectPacks(packs []pack.ID, rng *rand.Rand) []bool {
	sel := make([]bool, len(packs))
	switch {
	case s.Percent != 0:
		n := int(math.Ceil(float64(len(packs)) * s.Percent / 100))
		n = min(max(n, 1), len(packs))
		for _, i := range rng.Perm(len(packs))[:n] {
			sel[i] = true
		}
	case s.M != 0:
		for i := range packs {
			sel[i] = i%s.M == s.N-1
		}
	}
	return sel
}
