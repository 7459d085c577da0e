// Command logmeasure prints, for each snapshot of a repository in time
// order, the stored bytes of the blobs it adds to those of the snapshots
// before it, by kind: change logs (with their plaintext size and delta
// depth), data chunks stored as deltas and plain, table pages and other
// trees.
//
//	STRATA_PASSWORD=… go run ./internal/logmeasure -repo DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"

	"strata/internal/benchrepo"
	"strata/pack"
	"strata/repo"
)

func main() {
	dir := flag.String("repo", "", "repository folder or URL")
	flag.Parse()
	ctx := context.Background()
	r, sns, err := benchrepo.Open(ctx, *dir, os.Getenv("STRATA_PASSWORD"))
	if err != nil {
		log.Fatal(err)
	}
	seen := map[pack.ID]bool{}
	fmt.Printf("%4s %9s %5s %9s %9s %5s %9s %5s %9s %9s\n", "snap", "log KB", "logs", "log raw", "delta KB", "n", "plain KB", "n", "pages KB", "trees KB")
	for i, sn := range sns {
		var logKB, logRaw, deltaKB, plainKB, pagesKB, treesKB float64
		var logs, deltas, plains int
		stored := func(id pack.ID) (float64, bool) {
			if seen[id] {
				return 0, false
			}
			seen[id] = true
			var n float64
			for _, l := range r.Index().LookupAll(id) {
				n += float64(l.Length)
			}
			return n / 1000, true
		}
		w := repo.Walker{Loader: r,
			Tree: func(id pack.ID, _ string) error {
				n, _ := stored(id)
				treesKB += n
				return nil
			},
			Page: func(id pack.ID, _ string) error {
				n, ok := stored(id)
				pagesKB += n
				if !ok {
					return fs.SkipDir
				}
				return nil
			},
			Log: func(p string, _ *repo.Node, id pack.ID) error {
				if loc, ok := r.Index().Lookup(id); ok && loc.Compression != pack.Delta {
					fmt.Printf("     %s: a log chain starts, limit %d links\n", p, chainLimit(id, r.Config().MaxDeltaDepth))
				}
				if n, ok := stored(id); ok {
					logKB += n
					logs++
					b, err := r.LoadBlob(ctx, id)
					if err != nil {
						return err
					}
					logRaw += float64(len(b)) / 1000
				}
				return fs.SkipDir
			},
			Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
				n, ok := stored(c.ID)
				if !ok {
					return nil
				}
				loc, _ := r.Index().Lookup(c.ID)
				if loc.Compression == pack.Delta {
					deltaKB += n
					deltas++
				} else {
					plainKB += n
					plains++
				}
				return nil
			}}
		if err := w.Walk(ctx, sn.Tree, "/"); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%4d %9.1f %5d %9.1f %9.1f %5d %9.1f %5d %9.1f %9.1f\n", i, logKB, logs, logRaw, deltaKB, deltas, plainKB, plains, pagesKB, treesKB)
	}
}

// chainLimit is repo's: the links after which a chain rooted at root
// restarts.
func chainLimit(root pack.ID, max int) int {
	spread := max / 2
	if spread == 0 {
		return max
	}
	return max - int(root[0])%(spread+1)
}
