package retry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strata/repo/repotest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/faulty"
	"strata/repo/backend/mem"
	"strata/repo/backend/retry"
)

var ctx = context.Background()

// fast are waits short enough for tests; the budget is generous, so a
// test that gives up does so because the error is permanent.
var fast = retry.Options{Wait: time.Millisecond, MaxWait: 2 * time.Millisecond,
	ThrottledWait: 3 * time.Millisecond, MaxThrottledWait: 5 * time.Millisecond, MaxTime: time.Minute}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Storage { return retry.New(mem.New(), fast) })
}

func TestConformanceFaulty(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Storage { return retry.New(faulty.New(mem.New()), fast) })
}

// notices collects the retry notices.
type notices struct {
	mu   sync.Mutex
	msgs []string
}

func (n *notices) add(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, msg)
}

func (n *notices) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.msgs)
}

// setup returns a retrying storage over a faulty one over mem, holding
// one pack, and the pack's handle and bytes.
func setup(t *testing.T) (*retry.Backend, *faulty.Backend, *notices, backend.Handle, []byte) {
	t.Helper()
	f := faulty.New(mem.New())
	n := &notices{}
	opts := fast
	opts.Logger = repotest.Notices(n.add)
	r := retry.New(f, opts)
	data := bytes.Repeat([]byte("0123456789"), 500)
	h := backend.Handle{Type: backend.PackFile, Name: "ab" + strings.Repeat("0", 62)}
	if err := f.Save(ctx, h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	return r, f, n, h, data
}

// call runs op on s once, checking its result against the stored pack.
func call(t *testing.T, s backend.Storage, op faulty.Op, h backend.Handle, data []byte) error {
	t.Helper()
	switch op {
	case faulty.OpSave:
		other := backend.Handle{Type: backend.IndexFile, Name: strings.Repeat("1", 64)}
		if err := s.Save(ctx, other, backend.NewByteReader(data)); err != nil {
			return err
		}
		got, err := s.Load(ctx, other, 0, 0)
		if err == nil && !bytes.Equal(got, data) {
			t.Errorf("Save stored %d bytes that differ from the %d saved", len(got), len(data))
		}
		return err
	case faulty.OpLoad:
		got, err := s.Load(ctx, h, 0, 0)
		if err == nil && !bytes.Equal(got, data) {
			t.Errorf("Load returned %d bytes that differ from the %d stored", len(got), len(data))
		}
		return err
	case faulty.OpStat:
		fi, err := s.Stat(ctx, h)
		if err == nil && fi.Size != int64(len(data)) {
			t.Errorf("Stat: size %d, want %d", fi.Size, len(data))
		}
		return err
	case faulty.OpList:
		var names []string
		err := s.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
			names = append(names, fi.Handle.Name)
			return nil
		})
		if err == nil && (len(names) != 1 || names[0] != h.Name) {
			t.Errorf("List reported %v, want only %s", names, h.Name)
		}
		return err
	case faulty.OpRemove:
		if err := s.Remove(ctx, h); err != nil {
			return err
		}
		if _, err := s.Stat(ctx, h); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("Stat after Remove: %v, want ErrNotExist", err)
		}
		return nil
	}
	panic("unknown op " + op)
}

var ops = []faulty.Op{faulty.OpSave, faulty.OpLoad, faulty.OpStat, faulty.OpList, faulty.OpRemove}

// TestTransientRetried: timeouts, resets, 503 SlowDown and 429 pass once
// the storage recovers, for every operation, with a notice per retry.
func TestTransientRetried(t *testing.T) {
	for _, op := range ops {
		for _, fault := range []error{faulty.ErrTimeout, faulty.ErrReset, faulty.ErrSlowDown, faulty.ErrTooManyRequests} {
			t.Run(fmt.Sprintf("%s/%v", op, fault), func(t *testing.T) {
				r, f, n, h, data := setup(t)
				f.FailTimes(op, 3, fault)
				if err := call(t, r, op, h, data); err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				if n.count() != 3 {
					t.Errorf("%d notices, want 3: %q", n.count(), n.msgs)
				}
			})
		}
	}
}

// TestPermanentNotRetried: errors that would only repeat are returned at
// once, unchanged.
func TestPermanentNotRetried(t *testing.T) {
	permanent := []error{
		backend.ErrNotExist, backend.ErrExists, faulty.ErrDiskFull, backend.ErrReadOnly,
		fmt.Errorf("open: %w", fs.ErrPermission), backend.ErrInvalid, context.Canceled,
		backend.MarkPermanent(errors.New("403 AccessDenied")),
	}
	for _, op := range ops {
		for _, fault := range permanent {
			t.Run(fmt.Sprintf("%s/%v", op, fault), func(t *testing.T) {
				r, f, n, h, data := setup(t)
				f.FailTimes(op, 2, fault)
				if err := call(t, r, op, h, data); !errors.Is(err, fault) {
					t.Fatalf("%s: got %v, want %v", op, err, fault)
				}
				if n.count() != 0 {
					t.Errorf("retried a permanent error: %q", n.msgs)
				}
				// One failure was used, one is left: it was tried once.
				if err := call(t, r, op, h, data); !errors.Is(err, fault) {
					t.Errorf("second %s: got %v, want the second injected failure", op, err)
				}
			})
		}
	}
}

// TestSaveRewinds: a Save cut in the middle of its upload is tried again
// from the first byte.
func TestSaveRewinds(t *testing.T) {
	r, f, _, _, data := setup(t)
	f.FailTimes(faulty.OpSave, 2, faulty.ErrReset)
	if err := call(t, r, faulty.OpSave, backend.Handle{}, data); err != nil {
		t.Fatal(err)
	}
}

// unrewindable cannot start again.
type unrewindable struct{ backend.RewindReader }

func (unrewindable) Rewind() error { return errors.New("cannot rewind a pipe") }

func TestSaveUnrewindable(t *testing.T) {
	r, f, n, _, data := setup(t)
	f.FailTimes(faulty.OpSave, 1, faulty.ErrReset)
	h := backend.Handle{Type: backend.IndexFile, Name: strings.Repeat("1", 64)}
	err := r.Save(ctx, h, unrewindable{backend.NewByteReader(data)})
	if err == nil || !strings.Contains(err.Error(), "cannot rewind a pipe") {
		t.Fatalf("Save: got %v, want the rewind's error", err)
	}
	if n.count() != 1 {
		t.Errorf("%d notices, want 1", n.count())
	}
}

// failing fails after its first bytes: the source, not the storage.
type failing struct{ backend.RewindReader }

func (r failing) Read(p []byte) (int, error) {
	n, _ := r.RewindReader.Read(p[:min(len(p), 10)])
	return n, errors.New("source failed")
}

func TestSaveSourceErrorNotRetried(t *testing.T) {
	r, _, n, _, data := setup(t)
	h := backend.Handle{Type: backend.IndexFile, Name: strings.Repeat("1", 64)}
	err := r.Save(ctx, h, failing{backend.NewByteReader(data)})
	if err == nil || !strings.Contains(err.Error(), "source failed") {
		t.Fatalf("Save: got %v, want the source's error", err)
	}
	if n.count() != 0 {
		t.Errorf("retried a failing source: %q", n.msgs)
	}
}

// TestSaveLostReply: an attempt that stored the file but whose answer was
// lost (a timeout after the upload) is a success once a retry finds the
// file: a content-named file, or the config holding the same bytes.
func TestSaveLostReply(t *testing.T) {
	r, f, n, _, data := setup(t)
	for _, h := range []backend.Handle{
		{Type: backend.SnapshotFile, Name: strings.Repeat("2", 64)},
		{Type: backend.ConfigFile},
	} {
		f.FailAfterSave(1, faulty.ErrTimeout)
		if err := r.Save(ctx, h, backend.NewByteReader(data)); err != nil {
			t.Errorf("Save(%v) after a lost reply: %v", h, err)
		}
	}
	if n.count() != 2 {
		t.Errorf("%d notices, want 2", n.count())
	}
	// A config that holds other bytes is another init's: ErrExists.
	f.FailTimes(faulty.OpSave, 1, faulty.ErrTimeout)
	err := r.Save(ctx, backend.Handle{Type: backend.ConfigFile}, backend.NewByteReader([]byte("other")))
	if !errors.Is(err, backend.ErrExists) {
		t.Errorf("Save of another config: got %v, want ErrExists", err)
	}
}

// recorder records the ranges Load is asked for.
type recorder struct {
	backend.Storage
	mu     sync.Mutex
	ranges [][2]int64
}

func (r *recorder) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	r.mu.Lock()
	r.ranges = append(r.ranges, [2]int64{offset, length})
	r.mu.Unlock()
	return r.Storage.Load(ctx, h, offset, length)
}

// TestLoadResumes: a Load cut in the middle goes on from the byte after
// the last one delivered, whole or ranged.
func TestLoadResumes(t *testing.T) {
	_, f, _, h, data := setup(t)
	for _, tc := range []struct {
		offset, length int64
		want           [][2]int64
	}{
		{0, 0, [][2]int64{{0, 0}, {1000, 0}, {2000, 0}}},
		{100, 3000, [][2]int64{{100, 3000}, {1100, 2000}, {2100, 1000}}},
	} {
		rec := &recorder{Storage: f}
		r := retry.New(rec, fast)
		f.ShortLoad(2, 1000, faulty.ErrReset)
		got, err := r.Load(ctx, h, tc.offset, tc.length)
		if err != nil {
			t.Fatal(err)
		}
		end := tc.offset + tc.length
		if tc.length == 0 {
			end = int64(len(data))
		}
		if !bytes.Equal(got, data[tc.offset:end]) {
			t.Errorf("Load(%d, %d): %d bytes that differ from the stored ones", tc.offset, tc.length, len(got))
		}
		if fmt.Sprint(rec.ranges) != fmt.Sprint(tc.want) {
			t.Errorf("Load(%d, %d) asked for %v, want %v", tc.offset, tc.length, rec.ranges, tc.want)
		}
	}
}

// TestListOnce: a listing that fails in the middle is started again, and
// the callback sees each file once.
func TestListOnce(t *testing.T) {
	r, f, _, _, _ := setup(t)
	want := map[string]bool{}
	for i := range 5 {
		h := backend.Handle{Type: backend.SnapshotFile, Name: strings.Repeat(fmt.Sprint(i), 64)}
		if err := f.Save(ctx, h, backend.NewByteReader([]byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
		want[h.Name] = true
	}
	f.FailTimes(faulty.OpList, 3, faulty.ErrReset)
	seen := map[string]int{}
	err := r.List(ctx, backend.SnapshotFile, func(fi backend.FileInfo) error {
		seen[fi.Handle.Name]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if seen[name] != 1 {
			t.Errorf("%s reported %d times, want once", name, seen[name])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("reported %d files, want %d", len(seen), len(want))
	}
}

// TestGivesUp: a storage that keeps failing is given up on once the
// budget is spent, with its last error.
func TestGivesUp(t *testing.T) {
	f := faulty.New(mem.New())
	opts := fast
	opts.MaxTime = 30 * time.Millisecond
	r := retry.New(f, opts)
	f.FailTimes(faulty.OpStat, 1<<30, faulty.ErrSlowDown)
	_, err := r.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, faulty.ErrSlowDown) || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("Stat: got %v, want the last error and how often it was tried", err)
	}
}

// TestCancelWhileWaiting: cancelling the context ends the wait at once.
func TestCancelWhileWaiting(t *testing.T) {
	f := faulty.New(mem.New())
	c, cancel := context.WithCancel(ctx)
	r := retry.New(f, retry.Options{Wait: time.Hour, MaxWait: time.Hour, MaxTime: 2 * time.Hour, Logger: repotest.Notices(func(string) { cancel() })})
	f.FailTimes(faulty.OpStat, 1, syscall.ECONNRESET)
	_, err := r.Stat(c, backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stat: got %v, want context.Canceled", err)
	}
}

// TestWrap: a scheme's options set the budget and the notices.
func TestWrap(t *testing.T) {
	f := faulty.New(mem.New())
	n := &notices{}
	r := retry.Wrap(f, backend.Options{MaxRetryTime: time.Millisecond, Logger: repotest.Notices(n.add)})
	f.FailTimes(faulty.OpStat, 1<<30, faulty.ErrReset)
	_, err := r.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, faulty.ErrReset) || !strings.Contains(err.Error(), "gave up after 1 attempt in") {
		t.Errorf("Stat: got %v, want to give up after the first attempt (the first wait exceeds 1ms)", err)
	}
	if n.count() != 0 {
		t.Errorf("notices %q for an attempt not retried", n.msgs)
	}
}
