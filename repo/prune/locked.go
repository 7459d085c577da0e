package prune

import (
	"context"
	"errors"
	"sort"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// Object lock (docs/design.md, "prune" and "Object lock"): a pack or
// index file under object lock cannot be removed before its date, so
// prune leaves it and says so. A locked pack is kept as it is, in the new
// index with all its entries (used or not): repacking it would copy its
// blobs without freeing anything. A locked unindexed pack is left for a
// later prune. A locked old index file is left in storage, superseded by
// the new one, so that no reader uses it.

// LockedFile is a file prune could not remove because of its object lock.
type LockedFile struct {
	File      string    `json:"file"`
	Size      int64     `json:"size"`
	Mode      string    `json:"mode,omitempty"` // governance or compliance
	Until     time.Time `json:"until,omitzero"` // the retention's date
	LegalHold bool      `json:"legal_hold,omitempty"`
}

func (p *plan) addLocked(h backend.Handle, size int64, st backend.LockState) {
	p.rep.Locked = append(p.rep.Locked, LockedFile{File: h.String(), Size: size, Mode: lowerMode(st.Mode), Until: st.Until, LegalHold: st.LegalHold})
}

func lowerMode(m backend.RetentionMode) string {
	switch m {
	case backend.Governance:
		return "governance"
	case backend.Compliance:
		return "compliance"
	}
	return ""
}

// pinLocked keeps the packs prune would repack or remove, and the
// unindexed packs it would remove, that are under object lock.
func (p *plan) pinLocked(ctx context.Context) error {
	var hs []backend.Handle
	for id, pi := range p.packs {
		if pi.size >= 0 && pi.action != keep {
			hs = append(hs, packHandle(id))
		}
	}
	for _, id := range p.unindexed {
		hs = append(hs, packHandle(id))
	}
	locked, err := p.r.LockedFiles(ctx, hs)
	if err != nil || len(locked) == 0 {
		return err
	}
	for id, pi := range p.packs {
		st, ok := locked[packHandle(id)]
		if !ok {
			continue
		}
		switch pi.action {
		case remove:
			p.rep.PacksDeleted--
		case repack:
			p.rep.PacksRepacked--
		}
		pi.action, pi.pinned = keep, true
		p.rep.PacksKept++
		p.rep.PacksLocked++
		p.addLocked(packHandle(id), pi.size, st)
	}
	unindexed := p.unindexed[:0]
	for _, id := range p.unindexed {
		st, ok := locked[packHandle(id)]
		if !ok {
			unindexed = append(unindexed, id)
			continue
		}
		p.rep.PacksUnindexed--
		p.rep.PacksLocked++
		p.rep.BytesAfter += p.unindexedSize[id]
		p.addLocked(packHandle(id), p.unindexedSize[id], st)
	}
	p.unindexed = unindexed
	p.sortLocked()
	return nil
}

func (p *plan) sortLocked() {
	sort.Slice(p.rep.Locked, func(i, j int) bool { return p.rep.Locked[i].File < p.rep.Locked[j].File })
}

// pinBases keeps the packs that hold the base of a delta blob in a
// pinned pack: a pinned pack stays in the index with every entry, and an
// entry whose base no pack listed holds could not be decoded.
func (p *plan) pinBases(base pack.ID) bool {
	changed := false
	for _, loc := range p.r.Index().LookupAll(base) {
		pi := p.packs[loc.Pack]
		if pi == nil || pi.action == keep || pi.size < 0 {
			continue
		}
		switch pi.action {
		case remove:
			p.rep.PacksDeleted--
		case repack:
			p.rep.PacksRepacked--
		}
		pi.action = keep
		p.rep.PacksKept++
		changed = true
	}
	return changed
}

// removableIndex splits the old index files into those prune may remove
// and those under object lock, which it leaves (and reports).
func (p *plan) removableIndex(ctx context.Context, oldIndex []pack.ID) ([]pack.ID, error) {
	hs := make([]backend.Handle, 0, len(oldIndex))
	for _, id := range oldIndex {
		hs = append(hs, backend.Handle{Type: backend.IndexFile, Name: id.String()})
	}
	locked, err := p.r.LockedFiles(ctx, hs)
	if err != nil || len(locked) == 0 {
		return oldIndex, err
	}
	var removable []pack.ID
	for _, id := range oldIndex {
		if _, ok := locked[backend.Handle{Type: backend.IndexFile, Name: id.String()}]; !ok {
			removable = append(removable, id)
		}
	}
	p.lockedIndex = locked
	return removable, nil
}

// reportLockedIndex adds the old index files left under lock.
func (p *plan) reportLockedIndex() {
	for h, st := range p.lockedIndex {
		p.addLocked(h, -1, st)
		p.rep.IndexFilesLocked++
	}
	p.sortLocked()
}

// lockedRemove reports a removal refused by an object lock the lock
// query before missed (set meanwhile, or by the server's clock); it
// returns false for any other error.
func (p *plan) lockedRemove(h backend.Handle, size int64, err error) bool {
	var le *backend.LockedError
	if !errors.As(err, &le) {
		return false
	}
	p.addLocked(h, size, le.State)
	if h.Type == backend.PackFile {
		p.rep.PacksLocked++
	} else {
		p.rep.IndexFilesLocked++
	}
	p.sortLocked()
	return true
}
