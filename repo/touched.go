package repo

import (
	"strata/pack"
	"strata/repo/backend"
)

// SnapshotsTouched returns the snapshots whose snapshot file this handle
// saved or removed, or whose protection it saved or removed, in the order
// first touched: what a command did to which snapshots, for its audit
// record (docs/design.md, "The audit trail").
func (r *Repository) SnapshotsTouched() []pack.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pack.ID(nil), r.touched...)
}

// touch notes that the command touched snapshot id.
func (r *Repository) touch(id pack.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.touchedSet == nil {
		r.touchedSet = map[pack.ID]bool{}
	}
	if !r.touchedSet[id] {
		r.touchedSet[id] = true
		r.touched = append(r.touched, id)
	}
}

// touchFile notes the snapshot that file h names: a snapshot file's own,
// or the one a protect file (sealed bytes data, when known) protects.
func (r *Repository) touchFile(h backend.Handle, data []byte) {
	switch h.Type {
	case backend.SnapshotFile:
		if id, err := pack.ParseID(h.Name); err == nil {
			r.touch(id)
		}
	case backend.ProtectFile:
		if data == nil {
			return
		}
		if plain, err := r.key.Open(nil, data); err == nil {
			if p, err := DecodeProtection(plain); err == nil {
				r.touch(p.Snapshot)
			}
		}
	}
}
