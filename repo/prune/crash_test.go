package prune_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"strata/repo/backend/faulty"
	"strata/repo/backend/mem"
	"strata/repo/prune"
	"strata/repo/repotest"
)

// TestPruneStoppedAtEveryStep stops prune at each of its writes and
// removals in turn, as a kill would, and checks that every remaining
// snapshot still restores and that the next prune finishes the job.
func TestPruneStoppedAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	stop := errors.New("injected stop")
	for _, step := range []string{"save", "remove"} {
		for n, stopped := 1, true; stopped; n++ {
			stopped = false
			t.Run(fmt.Sprintf("%s-%d", step, n), func(t *testing.T) {
				ctx := context.Background()
				be := faulty.New(mem.New())
				r := repotest.NewOn(t, be)
				h := newHistory(r, 60)
				for i := range 8 {
					h.snapshot(t, hour(i), 15)
				}
				h.forget(t, 5)
				if step == "save" {
					be.FailSaveAfter(n, stop)
				} else {
					be.FailRemoveAfter(n, stop)
				}
				_, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{})
				be.Clear()
				if err != nil && !errors.Is(err, stop) {
					t.Fatalf("prune failed with another error: %v", err)
				}
				stopped = err != nil
				h.verify(t, repotest.Reopen(t, be))
				if _, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{}); err != nil {
					t.Fatalf("prune after the stop: %v", err)
				}
				h.verify(t, repotest.Reopen(t, be))
			})
		}
	}
}
