package verify_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
	"strata/verify"
)

// TestWhatToDo checks the steps chosen for each kind of damage: the index
// first, then the snapshots when data is lost, and prune only when
// nothing is damaged.
func TestWhatToDo(t *testing.T) {
	is := func(cmds ...string) func(*fixture) []string { return func(*fixture) []string { return cmds } }
	none := is()
	headerOnly := verify.CheckOptions{Workers: 2}
	readData := verify.CheckOptions{ReadData: true, Workers: 2}
	lost := []string{"strata repair index", "strata repair snapshots --forget", "strata backup"}
	tests := []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		opts   verify.CheckOptions
		want   func(f *fixture) []string // commands, "" for a step without one
	}{
		{"clean", nil, readData, none},
		{"missing index file", func(t *testing.T, f *fixture) { f.remove(t, backend.IndexFile, f.i1) },
			headerOnly, is("strata repair index")},
		{"damaged index file", func(t *testing.T, f *fixture) { f.flip(t, backend.IndexFile, f.i2, 30) },
			headerOnly, is("strata repair index")},
		{"missing data pack", func(t *testing.T, f *fixture) { f.remove(t, backend.PackFile, f.p1) },
			headerOnly, is(lost...)},
		{"index file and its pack missing", func(t *testing.T, f *fixture) {
			f.remove(t, backend.IndexFile, f.i1)
			f.remove(t, backend.PackFile, f.p1)
			// No pack holds the blobs; repair index records the index
			// file as replaced (the journal names it missing).
		}, headerOnly, is(lost...)},
		{"damaged tree blob", func(t *testing.T, f *fixture) { f.flipInBlob(t, f.sub) }, headerOnly,
			func(f *fixture) []string { return []string{"", "strata repair packs " + f.p3.Short()} }},
		{"damaged tree blob, both copies", func(t *testing.T, f *fixture) { f.flipInCopies(t, f.sub) }, headerOnly,
			func(f *fixture) []string {
				p := ids(f.p3, f.p3b)
				return []string{"", "strata repair packs " + p[0].Short() + " " + p[1].Short(), "strata repair snapshots --forget", "strata backup"}
			}},
		{"missing tree pack", func(t *testing.T, f *fixture) { f.remove(t, backend.PackFile, f.p3) }, headerOnly,
			is("strata repair index", "strata repair packs")},
		{"damaged data blob", func(t *testing.T, f *fixture) { f.flipInBlob(t, f.plain2) },
			readData, func(f *fixture) []string {
				return []string{"", "strata repair packs " + f.p2.Short(), "strata repair snapshots --forget", "strata backup"}
			}},
		{"damaged pack header, data not read", func(t *testing.T, f *fixture) {
			f.flip(t, backend.PackFile, f.p2, len(f.load(t, backend.PackFile, f.p2))-10)
		}, headerOnly, func(f *fixture) []string { return []string{"", "strata repair packs " + f.p2.Short()} }},
		{"index does not match pack header", func(t *testing.T, f *fixture) {
			rewriteIndexFile(t, f, f.i2, func(b *pack.Blob) {
				if b.ID == f.plain2 {
					b.Length--
				}
			})
		}, headerOnly, is("strata repair index --read-all-packs")},
		{"damaged snapshot file", func(t *testing.T, f *fixture) { f.flip(t, backend.SnapshotFile, f.s1, 40) },
			headerOnly, is("strata repair snapshots --forget")},
		{"damaged snapshot file and lost data", func(t *testing.T, f *fixture) {
			f.flip(t, backend.SnapshotFile, f.s1, 40)
			f.remove(t, backend.PackFile, f.p1)
		}, headerOnly, is(append(slices.Clone(lost), "")...)},
		{"damaged key file", func(t *testing.T, f *fixture) {
			name, err := f.open(t).AddKey(context.Background(), "another password")
			if err != nil {
				t.Fatal(err)
			}
			id, _ := pack.ParseID(name)
			f.flip(t, backend.KeyFile, id, 30)
		}, headerOnly, is("strata key remove @key")},
		{"damaged policy file", func(t *testing.T, f *fixture) {
			sp, err := f.open(t).SetPolicy(context.Background(), json.RawMessage(`{"keep_last":1}`), "")
			if err != nil {
				t.Fatal(err)
			}
			f.flip(t, backend.PolicyFile, sp.ID, 40)
		}, headerOnly, is("strata policy reset")},
		{"damaged protect file", func(t *testing.T, f *fixture) {
			p, err := f.open(t).Protect(context.Background(), f.s1, time.Time{}, "keep")
			if err != nil {
				t.Fatal(err)
			}
			f.flip(t, backend.ProtectFile, p.ID, 40)
		}, headerOnly, is("strata unprotect --damaged")},
		{"unreferenced pack only", func(t *testing.T, f *fixture) {
			junk := randomBytes(9, 100)
			h := backend.Handle{Type: backend.PackFile, Name: crypto.FileID(junk).String()}
			if err := f.be.Save(context.Background(), h, backend.NewByteReader(junk)); err != nil {
				t.Fatal(err)
			}
		}, readData, is("strata prune")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.damage != nil {
				tt.damage(t, f)
			}
			steps := f.check(t, tt.opts).WhatToDo()
			var got []string
			for _, s := range steps {
				if strings.HasPrefix(s.Command, "strata key remove ") {
					s.Command = "strata key remove @key" // the name is random
				}
				got = append(got, s.Command)
				if s.Why == "" || strings.Contains(s.Why, "%!") {
					t.Errorf("step %q: bad reason %q", s.Command, s.Why)
				}
			}
			if want := tt.want(f); !slices.Equal(got, want) {
				t.Errorf("steps %q, want %q", got, want)
			}
		})
	}
}
