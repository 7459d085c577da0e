package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"strata/repo/audit"
)

// TestAdvanceAnchor: the anchor moves forward with each record, never
// back, and not past a record of its own that storage lost.
func TestAdvanceAnchor(t *testing.T) {
	tr := newTrail(t)
	ctx := context.Background()
	path := audit.AnchorPath(filepath.Join(t.TempDir(), "anchors"), "0123", "/srv/backup")
	advance := func(name string) {
		t.Helper()
		rec, err := tr.log.Load(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.log.Advance(ctx, path, "/srv/backup", rec); err != nil {
			t.Fatal(err)
		}
	}
	anchored := func(want string) {
		t.Helper()
		a, err := audit.LoadAnchor(path)
		if err != nil || a == nil || a.Name != want {
			t.Fatalf("anchor %+v (%v), want %s", a, err, want)
		}
	}
	if a, err := audit.LoadAnchor(path); a != nil || err != nil {
		t.Fatalf("no anchor yet: %+v %v", a, err)
	}
	first := tr.add(nil, "backup", audit.Result{OK: true})
	advance(first)
	second := tr.add(nil, "check", audit.Result{OK: true})
	advance(second)
	advance(first) // older: stays
	anchored(second)
	tr.remove(second)
	third := tr.add(nil, "check", audit.Result{OK: true}) // takes the lost one's number
	fourth := tr.add(nil, "check", audit.Result{OK: true})
	advance(third)
	advance(fourth)
	anchored(second)
	if a, _ := audit.LoadAnchor(path); a == nil {
		t.Fatal("no anchor")
	} else if lost, err := tr.log.Lost(ctx, a); err != nil || !lost {
		t.Fatalf("Lost: %v %v", lost, err)
	}
}
