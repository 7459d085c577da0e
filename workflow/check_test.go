package workflow_test

import (
	"context"
	"strings"
	"testing"

	"strata/repo/backend"
	"strata/repo/repotest"
	"strata/verify"
	"strata/workflow"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	if _, err := workflow.Backup(ctx, r, workflow.BackupRequest{Stdin: strings.NewReader(strings.Repeat("some data\n", 500))}); err != nil {
		t.Fatal(err)
	}
	started := false
	rep, err := workflow.Check(ctx, r, workflow.CheckRequest{ReadData: true, Progress: func(*verify.Progress) func() {
		started = true
		return func() {}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Errors != 0 || rep.Report.Snapshots != 1 || rep.Report.DataBytesRead == 0 || !started {
		t.Fatalf("check of a sound repository: ok %v, %d errors, %d snapshots, %d bytes read, progress %v",
			rep.OK, rep.Errors, rep.Report.Snapshots, rep.Report.DataBytesRead, started)
	}
	if _, err := workflow.Check(ctx, r, workflow.CheckRequest{Subset: "3/2"}); err == nil {
		t.Error("check with subset 3/2 succeeded")
	}

	// A lost pack: the check runs and reports it.
	repotest.SkipCheck(t)
	var packs []string
	if err := be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error { packs = append(packs, fi.Handle.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: packs[0]}); err != nil {
		t.Fatal(err)
	}
	rep, err = workflow.Check(ctx, r, workflow.CheckRequest{})
	if err != nil {
		t.Fatalf("check of a repository missing a pack: %v, want a report", err)
	}
	if rep.OK || rep.Errors == 0 || len(rep.Report.WhatToDo()) == 0 {
		t.Fatalf("check of a repository missing a pack: ok %v, %d errors, what to do %v", rep.OK, rep.Errors, rep.Report.WhatToDo())
	}
}
