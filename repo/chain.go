package repo

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
)

// A delta blob's chain (docs/design.md, "Chunks, the key index and delta
// bases") is read link by link on the way down, one request for each on
// remote storage, each waiting for the one before. But the index already
// says where every link is, so loadChain reads them all at once: one
// ranged read per run of nearby links in a pack, the reads side by side.

// chainGap is the largest gap between two links in one pack that one
// read spans: reading the bytes between costs less than another request.
const chainGap = 64 << 10

// chainReads bounds the reads of one chain that run at once.
const chainReads = 8

// chainLink is one blob of a chain, its first copy, and its sealed bytes
// once read.
type chainLink struct {
	id     pack.ID
	loc    index.Location
	sealed []byte
}

// loadChain appends the plaintext of blob id to dst, reading the links of
// its chain down to a plain blob, or to a base in the blob cache, at once.
// With cache set (a restore), the bases it decodes join the blob cache, as
// loadBlob's do; without (a backup's delta base), the links are read
// through the block cache of packblocks.go. It reports false, having read
// nothing, for a chain it cannot plan (a link not indexed, a cycle) and,
// with cache, for a blob that is not a delta; an error (a read failed, a
// link damaged) is for the caller to take the slow path, which tries
// every copy and names the damage.
func (r *Repository) loadChain(ctx context.Context, id pack.ID, dst []byte, cache bool) ([]byte, bool, error) {
	var links []*chainLink
	var root []byte // the plaintext the chain rests on, from the cache
	for cur := id; ; {
		if len(links) > 0 {
			if plain, ok := r.cache.get(cur); ok {
				root = plain
				break
			}
		}
		if len(links) > maxChainWalk {
			return dst, false, nil
		}
		loc, ok := r.Index().Lookup(cur)
		if !ok {
			return dst, false, nil
		}
		links = append(links, &chainLink{id: cur, loc: loc})
		if loc.Compression != pack.Delta {
			break
		}
		cur = loc.Base
	}
	if cache && len(links) < 2 && root == nil {
		// A plain blob, read as it is.
		return dst, false, nil
	}
	read := r.readLinks
	if !cache {
		read = r.readLinksBlocks
	}
	if err := read(ctx, links); err != nil {
		return dst, true, err
	}
	// Decode from the plain end up; each link is the next one's base.
	base := root
	var bufs [2]*[]byte
	if !cache {
		bufs = [2]*[]byte{getPlainBuf(), getPlainBuf()}
		defer func() {
			putPlainBuf(bufs[0], (*bufs[0])[:0])
			putPlainBuf(bufs[1], (*bufs[1])[:0])
		}()
	}
	for i := len(links) - 1; i >= 0; i-- {
		l := links[i]
		var out []byte
		switch {
		case i == 0:
			out = dst
		case !cache:
			out = (*bufs[i%2])[:0]
		}
		plain, err := r.decodeLink(l.id, l.loc, l.sealed, base, out)
		if err != nil {
			return dst, true, err
		}
		if i == 0 {
			return plain, true, nil
		}
		if cache {
			r.cache.put(l.id, plain)
		} else if cap(plain) > cap(*bufs[i%2]) {
			// Decoded into a new array; else plain is the buffer's
			// own, capped just past the blob's length, and the buffer
			// keeps its room.
			*bufs[i%2] = plain
		}
		base = plain[len(out):]
	}
	panic("unreachable")
}

// readLinks reads the sealed bytes of every link: the links of one pack
// that lie close together with one ranged read, the reads side by side.
func (r *Repository) readLinks(ctx context.Context, links []*chainLink) error {
	byPack := map[pack.ID][]*chainLink{}
	for _, l := range links {
		byPack[l.loc.Pack] = append(byPack[l.loc.Pack], l)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(chainReads)
	for packID, ls := range byPack {
		slices.SortFunc(ls, func(a, b *chainLink) int { return int(a.loc.Offset) - int(b.loc.Offset) })
		for start := 0; start < len(ls); {
			end := start + 1
			for end < len(ls) && int64(ls[end].loc.Offset) <= linkEnd(ls[end-1])+chainGap {
				end++
			}
			run := ls[start:end]
			start = end
			g.Go(func() error {
				from, to := int64(run[0].loc.Offset), int64(0)
				for _, l := range run {
					to = max(to, linkEnd(l))
				}
				b, err := r.readRange(gctx, packID, from, to-from)
				if err != nil {
					return err
				}
				for _, l := range run {
					off := int64(l.loc.Offset) - from
					l.sealed = b[off : off+int64(l.loc.Length)]
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// readLinksBlocks reads the sealed bytes of every link through the
// block cache (packblocks.go), the blocks side by side: a backup's reads
// of its delta bases.
func (r *Repository) readLinksBlocks(ctx context.Context, links []*chainLink) error {
	if len(links) == 1 {
		// Mostly a plain blob (a diff's base chunk): read here, with
		// no goroutine to start and wait for.
		var err error
		links[0].sealed, err = r.readBlobBlocks(ctx, links[0].loc)
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(chainReads)
	for _, l := range links {
		g.Go(func() error {
			var err error
			l.sealed, err = r.readBlobBlocks(gctx, l.loc)
			return err
		})
	}
	return g.Wait()
}

func linkEnd(l *chainLink) int64 { return int64(l.loc.Offset) + int64(l.loc.Length) }
