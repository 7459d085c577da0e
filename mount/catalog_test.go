package mount

import (
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
)

// TestNames: snapshots are named by their second in UTC without colons;
// two in the same second both get their short ID appended; short IDs
// grow past 8 digits only where two IDs share a longer prefix.
func TestNames(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	id := func(hex string) pack.ID {
		full := hex + "0000000000000000000000000000000000000000000000000000000000000000"[len(hex):]
		id, err := pack.ParseID(full)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	loaded := map[pack.ID]*repo.Snapshot{}
	for _, sn := range []*repo.Snapshot{
		{ID: id("aa11"), Time: at("2025-06-02T03:00:00.1+02:00")},
		{ID: id("bb22"), Time: at("2025-06-02T01:00:00.9Z")}, // the same second in UTC
		{ID: id("cc33ddee2"), Time: at("2025-06-02T04:00:00Z")},
		{ID: id("cc33ddee1"), Time: at("2025-06-02T05:00:00Z")},
	} {
		loaded[sn.ID] = sn
	}
	st := newState(loaded)
	want := []struct{ name, short string }{
		{"2025-06-02T01-00-00Z-aa110000", "aa110000"},
		{"2025-06-02T01-00-00Z-bb220000", "bb220000"},
		{"2025-06-02T04-00-00Z", "cc33ddee2"},
		{"2025-06-02T05-00-00Z", "cc33ddee1"},
	}
	if len(st.snaps) != len(want) {
		t.Fatalf("%d snapshots, want %d", len(st.snaps), len(want))
	}
	for i, w := range want {
		if s := st.snaps[i]; s.name != w.name || s.short != w.short || st.byName[w.name] != s || st.byShort[w.short] != s {
			t.Errorf("snapshot %d: name %q, short %q; want %q, %q", i, s.name, s.short, w.name, w.short)
		}
	}
	if latest(st.snaps).short != "cc33ddee1" {
		t.Errorf("latest is %s", latest(st.snaps).name)
	}
}

func TestEscapeName(t *testing.T) {
	for in, want := range map[string]string{
		"hourly": "hourly", "app/x": "app%2Fx", "50%": "50%25", ".": "%2E", "..": "%2E.", "a.b": "a.b",
		"env:prod": "env%3Aprod", `a\b*?"<>|`: "a%5Cb%2A%3F%22%3C%3E%7C", "tab\there": "tab%09here", "": "%",
		"café": "café",
	} {
		if got := escapeName(in); got != want {
			t.Errorf("escapeName(%q) = %q, want %q", in, got, want)
		}
	}
}
