package main

import (
	"context"
	"fmt"

	"strata/repo"
)

func diffFiles(ctx context.Context, g *globals, r *repo.Repository, a, b *repo.Snapshot, f diffFlags) error {
	return fmt.Errorf("snapshots %s and %s hold files: diff compares table snapshots", a.ID.Short(), b.ID.Short())
}
