package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"strata/pack"
	"strata/repo"
)

// Options tune Restore. The zero value restores everything with
// DefaultWorkers and refuses to overwrite.
type Options struct {
	// Include lists patterns of snapshot paths (package filter:
	// "/tmp/data", "/tmp/data/*.csv", or "*.csv" for a base name at any
	// depth); empty restores everything. A pattern that matches a dir
	// includes its whole content; the parent dirs of what is included are
	// created. Patterns that match nothing are an error (ErrNoMatch).
	Include []string
	// Exclude lists patterns of snapshot paths to leave out, in Include's
	// syntax; a pattern that matches a dir leaves out its whole content.
	// Excludes win over includes.
	Exclude []string
	// IInclude and IExclude are Include and Exclude patterns matched
	// without regard to case (restic's --iinclude and --iexclude).
	IInclude, IExclude []string
	// Overwrite replaces files and symlinks already in the target. Without
	// it, an existing name is an error (ErrExists). A dir in the target is
	// never replaced by a file; an existing dir is restored into.
	Overwrite bool
	// Workers is how many data blobs are loaded ahead of the writer; zero
	// means DefaultWorkers. Memory grows with Workers times the blob size.
	Workers int
	// Progress, when not nil, is updated while the restore runs.
	Progress *Progress
	// OnFile, when set, is told the snapshot path of each file, stream
	// or table once it is restored under its name. It is called from one
	// goroutine.
	OnFile func(path string)
	// Logger receives notices meant for the user (a content size that
	// differs from the snapshot's record, say) as records at
	// slog.LevelWarn; nil discards them.
	Logger *slog.Logger
}

// Progress counts a running restore; read it from another goroutine. The
// totals are set by a walk over the trees before anything is written.
// Files are file, stream and table nodes.
type Progress struct {
	TotalBytes   atomic.Uint64
	TotalFiles   atomic.Uint64
	BytesWritten atomic.Uint64
	FilesDone    atomic.Uint64
}

// Stats tells what Restore wrote.
type Stats struct {
	Files    uint64 // files, streams and tables
	Dirs     uint64 // created, or already there and restored into
	Symlinks uint64
	Bytes    uint64 // content written
}

// Restore writes the nodes below the tree root into the folder target,
// creating it if needed: snapshot path "/tmp/data/a.csv" becomes
// target/tmp/data/a.csv. Files, streams and tables become regular files.
//
// Each file is written under a temporary name in its folder and renamed
// once every blob was loaded, verified and written and its mode and
// modification time were set; dirs are created 0700 and get their mode
// and time after their content. The first error stops the restore and is
// returned naming the snapshot path and, for a blob, the blob ID; files
// restored before it stay, and no partial file is left under a real name.
// A node without mode bits (0) is restored 0700 (dirs) or 0600.
func Restore(ctx context.Context, loader BlobLoader, root pack.ID, target string, opts Options) (Stats, error) {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sel, err := newSelector(opts)
	if err != nil {
		return Stats{}, err
	}
	// A first walk over the trees counts the totals and finds out whether
	// the patterns match, before anything is written.
	if sel != nil || opts.Progress != nil {
		var matched, files, size uint64
		count := visitor{
			enter: func(string, *repo.Node) error { matched++; return nil },
			leaf: func(_ string, n *repo.Node) error {
				matched++
				if hasContent(n) {
					files++
					size += n.Size
				}
				return nil
			},
		}
		if err := (&walker{loader: loader, sel: sel, v: count}).walk(ctx, root, "/"); err != nil {
			return Stats{}, err
		}
		if !sel.includesAll() && matched == 0 {
			return Stats{}, fmt.Errorf("%w: %q", ErrNoMatch, append(opts.Include, opts.IInclude...))
		}
		if opts.Progress != nil {
			opts.Progress.TotalBytes.Store(size)
			opts.Progress.TotalFiles.Store(files)
		}
	}
	if err := os.MkdirAll(target, 0o700); err != nil {
		return Stats{}, fmt.Errorf("creating the target: %w", err)
	}
	if fi, err := os.Stat(target); err != nil {
		return Stats{}, fmt.Errorf("target: %w", err)
	} else if !fi.IsDir() {
		return Stats{}, fmt.Errorf("target %s is not a folder", target)
	}
	fw := &fsWriter{target: target, opts: opts}
	err = runPipeline(ctx, loader, opts.Workers,
		func(ctx context.Context, v visitor) error {
			return (&walker{loader: loader, sel: sel, v: v}).walk(ctx, root, "/")
		},
		fw.consume)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = fmt.Errorf("restore interrupted: %w", err)
	}
	return fw.stats, err
}
