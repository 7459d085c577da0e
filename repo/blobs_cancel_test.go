package repo_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/repotest"
)

// TestSaveBlobCancelledWhileReadingBase: a backup interrupted while a
// delta's base is read ends with the cancellation, and no notice that the
// blob is stored without delta (Ctrl-C printed one per blob in flight);
// the blob can be saved again afterwards.
func TestSaveBlobCancelledWhileReadingBase(t *testing.T) {
	var mu sync.Mutex
	var notices []string
	r, _ := repotest.New(t, func(_ *repo.Config, o *repo.Options) {
		o.Logger = repotest.Notices(func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			notices = append(notices, msg)
		})
	})
	base := csvChunk(11, 1500)
	changed := append(append([]byte{}, base...), "one more row\n"...)
	baseRes, err := r.SaveBlob(ctx, pack.DataBlob, base, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.SaveBlob(cancelled, pack.DataBlob, changed, baseRes.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveBlob with a cancelled context: %v, want context.Canceled", err)
	}
	mu.Lock()
	if len(notices) != 0 {
		t.Errorf("notices on cancellation: %q", notices)
	}
	mu.Unlock()
	res, err := r.SaveBlob(ctx, pack.DataBlob, changed, baseRes.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Compression != pack.Delta {
		t.Errorf("saved again after the cancellation as %v, want a delta", res.Compression)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
