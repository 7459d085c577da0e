package retention

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestApplyGroupKeys(t *testing.T) {
	snaps := snapshots(t, []snap{
		{at: "2026-11-01 12:00", host: "db2", tags: []string{"b", "a"}},
		{at: "2026-11-01 12:00", host: "db1"},
		{at: "2026-11-01 12:00", host: "db1", source: "other", tags: []string{"a", "b"}},
	})
	tests := []struct {
		groupBy []string
		want    []string
	}{
		{nil, []string{"host db1, source other", "host db1, source s", "host db2, source s"}},
		{[]string{"host"}, []string{"host db1", "host db2"}},
		{[]string{"source"}, []string{"source other", "source s"}},
		{[]string{"tags"}, []string{"no tags", "tags a,b"}},
		{[]string{"host", "tags"}, []string{"host db1, no tags", "host db1, tags a,b", "host db2, tags a,b"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.groupBy), func(t *testing.T) {
			groups, err := Apply(snaps, Policy{Last: 1}, Options{GroupBy: tt.groupBy, Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range groups {
				got = append(got, g.Key.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups %q, want %q", got, tt.want)
			}
		})
	}
}
