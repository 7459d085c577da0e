package verify

import (
	"math/rand/v2"
	"strings"
	"testing"

	"strata/pack"
)

func TestParseSubset(t *testing.T) {
	tests := []struct {
		in      string
		want    Subset
		wantErr string
	}{
		{in: "1/1", want: Subset{N: 1, M: 1}},
		{in: "2/5", want: Subset{N: 2, M: 5}},
		{in: "5/5", want: Subset{N: 5, M: 5}},
		{in: "10%", want: Subset{Percent: 10}},
		{in: "2.5%", want: Subset{Percent: 2.5}},
		{in: "100%", want: Subset{Percent: 100}},
		{in: "0.01%", want: Subset{Percent: 0.01}},
		{in: "0/5", wantErr: "n must be between 1 and m"},
		{in: "6/5", wantErr: "n must be between 1 and m"},
		{in: "1/0", wantErr: "n must be between 1 and m"},
		{in: "-1/5", wantErr: "n must be between 1 and m"},
		{in: "a/5", wantErr: "whole numbers"},
		{in: "1.5/5", wantErr: "whole numbers"},
		{in: "1/5/7", wantErr: "whole numbers"},
		{in: "0%", wantErr: "out of range"},
		{in: "-5%", wantErr: "out of range"},
		{in: "101%", wantErr: "out of range"},
		{in: "NaN%", wantErr: "not a number"},
		{in: "Inf%", wantErr: "not a number"},
		{in: "%", wantErr: "not a number"},
		{in: "ten%", wantErr: "not a number"},
		{in: "5", wantErr: `no "/" or "%"`},
		{in: "", wantErr: `no "/" or "%"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSubset(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `"n/m"`) {
					t.Fatalf("ParseSubset(%q) = %v, %v; want an error saying %q and the forms", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSubset(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if back, err := ParseSubset(got.String()); err != nil || back != got {
				t.Errorf("String() = %q does not parse back: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestSelectPacks(t *testing.T) {
	packs := make([]pack.ID, 10)
	for i := range packs {
		packs[i][0] = byte(i)
	}
	tests := []struct {
		subset Subset
		count  int
		want   []int // positions, when fixed
	}{
		{subset: Subset{}, count: 0},
		{subset: Subset{N: 1, M: 3}, count: 4, want: []int{0, 3, 6, 9}},
		{subset: Subset{N: 3, M: 3}, count: 3, want: []int{2, 5, 8}},
		{subset: Subset{N: 1, M: 1}, count: 10},
		{subset: Subset{N: 7, M: 20}, count: 1, want: []int{6}},
		{subset: Subset{Percent: 100}, count: 10},
		{subset: Subset{Percent: 25}, count: 3},  // rounded up
		{subset: Subset{Percent: 0.1}, count: 1}, // at least one
	}
	for _, tt := range tests {
		t.Run(tt.subset.String(), func(t *testing.T) {
			sel := tt.subset.selectPacks(packs, rand.New(rand.NewPCG(1, 2)))
			var got []int
			for i, s := range sel {
				if s {
					got = append(got, i)
				}
			}
			if len(got) != tt.count {
				t.Fatalf("selected %v, want %d packs", got, tt.count)
			}
			for i, p := range tt.want {
				if got[i] != p {
					t.Fatalf("selected %v, want %v", got, tt.want)
				}
			}
		})
	}

	// Groups 1/m .. m/m together select every pack exactly once.
	seen := make([]int, len(packs))
	for n := 1; n <= 4; n++ {
		for i, s := range (Subset{N: n, M: 4}).selectPacks(packs, nil) {
			if s {
				seen[i]++
			}
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Errorf("pack %d selected %d times by 1/4..4/4", i, k)
		}
	}
	if sel := (Subset{Percent: 50}).selectPacks(nil, rand.New(rand.NewPCG(1, 2))); len(sel) != 0 {
		t.Errorf("selected %d of no packs", len(sel))
	}
}
