package benchrepo

import (
	"context"

	"strata/repo"
	"strata/workflow"
)

// Open opens the repository at url with password, loads its index and
// lists its snapshots, oldest first. It takes no lock: the programs work on
// a repository that nothing else uses meanwhile.
func Open(ctx context.Context, url, password string) (*repo.Repository, []*repo.Snapshot, error) {
	r, err := workflow.Open(ctx, workflow.OpenRequest{URL: url, Password: password})
	if err != nil {
		return nil, nil, err
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, nil, err
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, nil, err
	}
	return r, sns, nil
}
