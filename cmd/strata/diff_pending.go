package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"strata/repo"
	"strata/snapdiff"
)

func diffFiles(ctx context.Context, g *globals, r *repo.Repository, a, b *repo.Snapshot, f diffFlags) error {
	return fmt.Errorf("snapshots %s and %s hold files: diff compares table snapshots", a.ID.Short(), b.ID.Short())
}

type sqlChanges struct{ changeWriter }

func newSQLChanges(w io.Writer, engine string, a, b *repo.Snapshot) (*sqlChanges, error) {
	return nil, errors.New("--format sql: unknown format")
}

func (s *sqlChanges) order(t []*snapdiff.TableDiff) []*snapdiff.TableDiff { return t }
