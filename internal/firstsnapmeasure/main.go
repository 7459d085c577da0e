// Command firstsnapmeasure measures how the chunks of a table snapshot
// would compress under the candidate encodings of docs/design.md, "The
// first snapshot against restic's": each chunk alone at zstd's default or
// better level, each chunk as a delta against the chunk before it in the
// same table (chains bounded or not), each chunk as a delta against the
// first of its group of chunks (-only star), and the table cut into
// larger chunks. It reads the chunks of the oldest snapshot of a repository
// (STRATA_PASSWORD opens it) and prints the payload bytes (zstd frames,
// without seals or pack entries), the chunk count, and the CPU time of
// encoding and of decoding each variant on one thread.
//
//	STRATA_PASSWORD=… go run ./internal/firstsnapmeasure -repo DIR [-only star]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"

	"strata/chunk"
	"strata/internal/benchrepo"
	"strata/repo"
)

func main() {
	dir := flag.String("repo", "", "repository folder or URL")
	only := flag.String("only", "", "measure only: star (each chunk a delta on the first of its group)")
	flag.Parse()
	ctx := context.Background()
	r, sns, err := benchrepo.Open(ctx, *dir, os.Getenv("STRATA_PASSWORD"))
	if err != nil {
		log.Fatal(err)
	}
	tables := map[string][][]byte{}
	var order []string
	w := repo.Walker{Loader: r, Chunk: func(p string, n *repo.Node, c repo.ChunkRef) error {
		if !c.HasInfo {
			return nil
		}
		plain, err := r.LoadBlob(ctx, c.ID)
		if err != nil {
			return err
		}
		if _, ok := tables[p]; !ok {
			order = append(order, p)
		}
		tables[p] = append(tables[p], plain)
		return nil
	}}
	if err := w.Walk(ctx, sns[0].Tree, "/"); err != nil {
		log.Fatal(err)
	}
	total, count := 0, 0
	for _, p := range order {
		for _, c := range tables[p] {
			total += len(c)
			count++
		}
	}
	fmt.Printf("snapshot %s: %d tables, %d chunks, %d bytes\n", sns[0].ID.Short(), len(order), count, total)
	runtime.LockOSThread()

	levels := []zstd.EncoderLevel{zstd.SpeedDefault, zstd.SpeedBetterCompression}
	if *only == "star" {
		for _, lvl := range levels {
			for _, g := range []int{8, 16, 1 << 30} {
				measureStar(tables, order, lvl, g)
			}
		}
		return
	}
	cfg := r.Config()
	for _, avg := range []uint{16, 17, 18} {
		p := cfg.TableChunkParams()
		p.AvgBits, p.MinSize, p.MaxSize = avg, 1<<(avg-2), 1<<(avg+3)
		chunks := tables
		if avg != cfg.TableAvgBits {
			chunks = rechunk(tables, order, p)
		}
		for _, lvl := range levels {
			for _, bound := range []int{0, -1, 8, 12, 16} {
				if avg != 16 && bound != 0 {
					continue
				}
				measure(chunks, order, avg, lvl, bound)
			}
		}
	}
}

// measure prints one variant: bound 0 stores every chunk alone, -1 each
// chunk as a delta against the one before it in its table, n > 0 the same
// with a plain chunk every n chunks (a chain of at most n links).
func measure(tables map[string][][]byte, order []string, avg uint, lvl zstd.EncoderLevel, bound int) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		log.Fatal(err)
	}
	var frames [][]byte
	var dicts [][]byte
	payload, n := 0, 0
	encStart := threadCPU()
	for _, p := range order {
		cs := tables[p]
		for i, c := range cs {
			var dict []byte
			if bound != 0 && i > 0 && (bound < 0 || i%bound != 0) {
				dict = cs[i-1]
			}
			var out bytes.Buffer
			if err := enc.ResetWithOptions(&out, zstd.WithEncoderDictRaw(0, dict)); err != nil {
				log.Fatal(err)
			}
			if dict == nil {
				if err := enc.ResetWithOptions(&out, zstd.WithEncoderDictDelete()); err != nil {
					log.Fatal(err)
				}
			}
			enc.ResetContentSize(&out, int64(len(c)))
			if _, err := enc.Write(c); err != nil {
				log.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				log.Fatal(err)
			}
			frames = append(frames, out.Bytes())
			dicts = append(dicts, dict)
			payload += out.Len()
			n++
		}
	}
	encCPU := threadCPU() - encStart
	decStart := threadCPU()
	var buf []byte
	for i, f := range frames {
		if dicts[i] != nil {
			if err := dec.ResetWithOptions(nil, zstd.WithDecoderDictRaw(0, dicts[i])); err != nil {
				log.Fatal(err)
			}
		} else if err := dec.ResetWithOptions(nil, zstd.WithDecoderDictDelete()); err != nil {
			log.Fatal(err)
		}
		if buf, err = dec.DecodeAll(f, buf[:0]); err != nil {
			log.Fatal(err)
		}
	}
	decCPU := threadCPU() - decStart
	what := "alone"
	switch {
	case bound < 0:
		what = "delta on previous, unbounded"
	case bound > 0:
		what = fmt.Sprintf("delta on previous, plain every %d", bound)
	}
	fmt.Printf("avg %3d KiB  %-22s %-34s chunks %5d  payload %10d  encode %6.2f s  decode %5.2f s\n",
		1<<avg>>10, lvl, what, n, payload, encCPU.Seconds(), decCPU.Seconds())
}

// measureStar prints the variant that stores the first of every group of
// g chunks of a table alone and the others as deltas against it.
func measureStar(tables map[string][][]byte, order []string, lvl zstd.EncoderLevel, g int) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	payload, n := 0, 0
	encStart := threadCPU()
	for _, p := range order {
		cs := tables[p]
		for i, c := range cs {
			var dict []byte
			if i%g != 0 {
				dict = cs[i-i%g]
			}
			var out bytes.Buffer
			opt := zstd.WithEncoderDictRaw(0, dict)
			if dict == nil {
				opt = zstd.WithEncoderDictDelete()
			}
			if err := enc.ResetWithOptions(&out, opt); err != nil {
				log.Fatal(err)
			}
			enc.ResetContentSize(&out, int64(len(c)))
			if _, err := enc.Write(c); err != nil {
				log.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				log.Fatal(err)
			}
			payload += out.Len()
			n++
		}
	}
	fmt.Printf("avg  64 KiB  %-22s star, groups of %-10d           chunks %5d  payload %10d  encode %6.2f s\n", lvl, g, n, payload, (threadCPU() - encStart).Seconds())
}

// rechunk cuts each table's text again with p.
func rechunk(tables map[string][][]byte, order []string, p chunk.Params) map[string][][]byte {
	out := map[string][][]byte{}
	for _, t := range order {
		c := chunk.New(bytes.NewReader(bytes.Join(tables[t], nil)), p)
		for {
			b, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Fatal(err)
			}
			out[t] = append(out[t], append([]byte(nil), b...))
		}
	}
	return out
}

// threadCPU is the CPU time of the calling thread (the program locks its
// goroutine to one), so that the machine's load does not count.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
