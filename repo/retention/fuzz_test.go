package retention

import (
	"reflect"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
)

// FuzzDecodePolicy: the policy a repository stores must never panic the
// decoder, and what it accepts must survive a round trip and Apply. Seeds
// live in testdata/fuzz/FuzzDecodePolicy/ and in f.Add below.
func FuzzDecodePolicy(f *testing.F) {
	b, _ := EncodePolicy(DefaultPolicy())
	f.Add(b)
	f.Add([]byte(`{"last":3,"within_hourly":"1y2m3d4h","tags":["a"]}`))
	f.Add([]byte(`{"daily":7,"safety":"0h"}`))
	f.Add([]byte(`{"daily":7,"safety":"1m3d"}`))
	base := time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC)
	var snaps []*repo.Snapshot
	for i := range 60 { // every 7 hours across the fall-back hour
		snaps = append(snaps, &repo.Snapshot{Time: base.Add(time.Duration(i*7) * time.Hour), Host: "h", Tier: []string{"hourly", "daily", "manual"}[i%3], ID: pack.ID{byte(i)}})
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePolicy(data)
		if err != nil {
			return
		}
		again, err := EncodePolicy(p)
		if err != nil {
			t.Fatalf("accepted policy does not encode: %v", err)
		}
		q, err := DecodePolicy(again)
		if err != nil {
			t.Fatalf("re-encoded policy %s does not decode: %v", again, err)
		}
		if !reflect.DeepEqual(normal(p), normal(q)) {
			t.Fatalf("round trip changed the policy: %+v, then %+v", p, q)
		}
		_ = p.String()
		_, err = Apply(snaps, p, Options{Location: berlin})
		if err != nil && !p.Empty() {
			t.Fatalf("Apply refused a valid policy: %v", err)
		}
	})
}

// normal makes empty and nil slices and maps compare equal.
func normal(p Policy) Policy {
	if len(p.Tags) == 0 {
		p.Tags = nil
	}
	if len(p.Tiers) == 0 {
		p.Tiers = nil
	}
	return p
}
