package repair

import (
	"context"
	"slices"

	"strata/index"
	"strata/pack"
)

// dropBrokenDeltas finds the delta entries, in packs that stay, whose
// chain of bases no longer ends in a blob that a pack that stays (or a
// new pack) holds: their base was lost with a damaged pack. Such an entry
// names a blob nobody can decode, which check reports as a missing base,
// so the index files that hold one are written again without it, as
// `repair index` would (docs/design.md, "repair packs"). Snapshots then
// treats those blobs as lost.
func (s *salvager) dropBrokenDeltas(ctx context.Context) error {
	decodable := map[pack.ID]bool{}
	var decodes func(id pack.ID, depth int) bool
	decodes = func(id pack.ID, depth int) bool {
		if ok, seen := decodable[id]; seen {
			return ok
		}
		decodable[id] = false // a chain that leads back here is broken
		ok := s.salvaged[id] > 0
		for _, loc := range s.idx.LookupAll(id) {
			if ok {
				break
			}
			if _, stored := s.stored[loc.Pack]; !stored || s.damaged[loc.Pack] {
				continue
			}
			ok = loc.Compression != pack.Delta || (depth < maxChainWalk && decodes(loc.Base, depth+1))
		}
		decodable[id] = ok
		return ok
	}
	s.broken = map[blobInPack]bool{}
	s.idx.Each(func(id pack.ID, loc index.Location) bool {
		if _, stored := s.stored[loc.Pack]; stored && !s.damaged[loc.Pack] &&
			loc.Compression == pack.Delta && !decodes(loc.Base, 1) {
			s.broken[blobInPack{id, loc.Pack}] = true
			if !slices.Contains(s.rep.BrokenDeltas, id) {
				s.rep.BrokenDeltas = append(s.rep.BrokenDeltas, id)
			}
		}
		return true
	})
	if len(s.broken) == 0 {
		return nil
	}
	slices.SortFunc(s.rep.BrokenDeltas, compareIDs)
	// The index files in force that hold a broken entry are replaced too.
	for _, id := range s.r.IndexFiles() {
		if slices.Contains(s.files, id) {
			continue
		}
		f, ferr := loadIndexFile(ctx, s.r, id)
		if ferr != nil {
			return ferr
		}
		if slices.ContainsFunc(f.Packs, func(p index.PackBlobs) bool {
			return slices.ContainsFunc(p.Blobs, func(b pack.Blob) bool { return s.broken[blobInPack{b.ID, p.PackID}] })
		}) {
			s.files = append(s.files, id)
		}
	}
	return nil
}

// withoutBroken returns p without its broken delta entries.
func (s *salvager) withoutBroken(p index.PackBlobs) index.PackBlobs {
	if len(s.broken) == 0 {
		return p
	}
	p.Blobs = slices.DeleteFunc(slices.Clone(p.Blobs), func(b pack.Blob) bool { return s.broken[blobInPack{b.ID, p.PackID}] })
	return p
}
