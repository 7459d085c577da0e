package repo

import (
	"errors"
	"testing"
	"time"
)

func TestLatestRef(t *testing.T) {
	for _, tc := range []struct {
		ref     string
		n       int
		ok, bad bool
	}{
		{"latest", 0, true, false},
		{"latest~", 1, true, false},
		{"latest^", 1, true, false},
		{"latest~1", 1, true, false},
		{"latest~12", 12, true, false},
		{"latest^^", 2, true, false},
		{"latest~2~3", 5, true, false},
		{"latest~2^", 3, true, false},
		{"latest~0", 0, true, false},
		{"1a2b3c4d", 0, false, false},
		{"latestx", 0, false, true},
		{"latest~x", 0, false, true},
		{"latest-1", 0, false, true},
		{"latest~99999999999999999999", 0, false, true},
	} {
		n, ok, err := LatestRef(tc.ref)
		if n != tc.n || ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("LatestRef(%q) = %d, %v, %v; want %d, %v, error %v", tc.ref, n, ok, err, tc.n, tc.ok, tc.bad)
		}
	}
}

func TestBeforeLatest(t *testing.T) {
	var sns []*Snapshot
	for i := range 3 {
		sns = append(sns, &Snapshot{Time: time.Unix(int64(i), 0)})
	}
	for n := range 3 {
		if sn, err := BeforeLatest(sns, n, "latest~", "here"); err != nil || sn != sns[2-n] {
			t.Errorf("BeforeLatest(%d) = %v, %v", n, sn, err)
		}
	}
	if _, err := BeforeLatest(sns, 3, "latest~3", "here"); !errors.Is(err, ErrSnapshotNotFound) {
		t.Errorf("BeforeLatest(3) of 3: %v", err)
	}
	if _, err := BeforeLatest(nil, 0, "latest", "here"); !errors.Is(err, ErrSnapshotNotFound) {
		t.Errorf("BeforeLatest of none: %v", err)
	}
}
