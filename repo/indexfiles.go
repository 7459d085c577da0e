package repo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// LoadIndex reads every index file into the in-memory index. Files that
// another loaded file supersedes are skipped. A damaged index file is an
// error naming the file, unless tolerate is set by LoadIndexTolerant. The
// index held before serves lookups until the new one replaces it (and
// after an error); the packs this handle uploaded that no index file names
// yet stay in it, so saves may run on the handle meanwhile. DropIndex
// frees the old index first when nothing else uses the handle.
func (r *Repository) LoadIndex(ctx context.Context) error {
	bad, err := r.loadIndex(ctx)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return bad[0]
	}
	return nil
}

// IndexFileError is a damaged or unreadable index file.
type IndexFileError struct {
	File pack.ID
	Err  error
}

func (e *IndexFileError) Error() string {
	// Err already names the file when it comes from reading it.
	msg := e.Err.Error()
	if !strings.Contains(msg, e.File.String()) {
		msg = "index/" + e.File.String() + ": " + msg
	}
	// Commands that write refuse a damaged index file, so the message
	// names the repair as well as the diagnosis.
	return msg + " (run `strata repair index` to rebuild the index from the pack headers; " +
		"`strata check --read-data` shows which snapshots are affected)"
}

func (e *IndexFileError) Unwrap() error { return e.Err }

// LoadIndexTolerant loads what it can and returns the damaged index files
// instead of failing; check uses it so it can report them.
func (r *Repository) LoadIndexTolerant(ctx context.Context) ([]*IndexFileError, error) {
	return r.loadIndex(ctx)
}

func (r *Repository) loadIndex(ctx context.Context) ([]*IndexFileError, error) {
	// No index file is written while the index loads: every file this
	// handle wrote is listed below, and the packs of later ones are still
	// in unsavedPacks when the new index replaces the old.
	r.indexMu.Lock()
	defer r.indexMu.Unlock()
	// A snapshot is saved after the index files naming its blobs, so the
	// snapshots listed before the index files are all covered by them.
	snapshots, err := r.List(ctx, backend.SnapshotFile)
	if err != nil {
		return nil, err
	}
	ids, err := r.List(ctx, backend.IndexFile)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	underLock, epoch := len(r.held) > 0, r.lockEpoch
	r.mu.Unlock()

	// Each file goes into the index as soon as it is read, so that only
	// the index and one decoded file are in memory at once.
	idx := index.New()
	var loaded []pack.ID
	var bad []*IndexFileError
	superseded := map[pack.ID]bool{}
	for _, id := range ids {
		f, err := r.loadIndexFile(ctx, id)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		for _, s := range f.Supersedes {
			superseded[s] = true
		}
		if !superseded[id] {
			addIndexFile(idx, f)
			loaded = append(loaded, id)
		}
	}
	if slices.ContainsFunc(loaded, func(id pack.ID) bool { return superseded[id] }) {
		// A file was read before the one that supersedes it, which happens
		// only when prune or repair index was stopped before removing the
		// files it replaced: build the index again from the files in force.
		inForce := slices.DeleteFunc(loaded, func(id pack.ID) bool { return superseded[id] })
		idx, loaded = index.New(), nil
		for _, id := range inForce {
			f, err := r.loadIndexFile(ctx, id)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			addIndexFile(idx, f)
			loaded = append(loaded, id)
		}
	}
	// A superseded file is not needed, so failing to read it is no error:
	// `repair index` supersedes damaged files before it removes them, and
	// a kill in between must leave an index that loads.
	bad = slices.DeleteFunc(bad, func(e *IndexFileError) bool { return superseded[e.File] })
	// A file the storage refuses to give (permission denied, an I/O or
	// network error) is not damage: skipping it would call it damaged and
	// advise repairs, so the storage's error stops the load.
	for _, e := range bad {
		if !IsDamage(e.Err) {
			return nil, e.Err
		}
	}
	idx.Compact()
	r.mu.Lock()
	for _, p := range r.unsavedPacks {
		idx.AddPack(p.PackID, p.Blobs)
	}
	r.idx.Store(idx)
	r.indexFiles = loaded
	r.indexLoaded = true
	r.indexedSnapshots = make(map[pack.ID]bool, len(snapshots))
	for _, id := range snapshots {
		r.indexedSnapshots[id] = true
	}
	r.indexFresh = underLock && epoch == r.lockEpoch
	r.mu.Unlock()
	return bad, nil
}

// loadIndexFile reads and decodes one index file.
func (r *Repository) loadIndexFile(ctx context.Context, id pack.ID) (*index.File, *IndexFileError) {
	plain, err := r.LoadFile(ctx, backend.IndexFile, id)
	if err != nil {
		return nil, &IndexFileError{File: id, Err: err}
	}
	f, err := index.Decode(plain)
	if err != nil {
		return nil, &IndexFileError{File: id, Err: fmt.Errorf("%w: %w", ErrDamaged, err)}
	}
	return f, nil
}

func addIndexFile(idx *index.Index, f *index.File) {
	for _, p := range f.Packs {
		idx.AddPack(p.PackID, p.Blobs)
	}
}

// IndexFiles returns the IDs of the index files in use.
func (r *Repository) IndexFiles() []pack.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pack.ID(nil), r.indexFiles...)
}

// DropIndex empties the in-memory index, so that a LoadIndex right after
// needs no memory for the old one. Only for a handle that nothing else
// uses meanwhile (prune reloading its index at the end).
func (r *Repository) DropIndex() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idx.Store(index.New())
	r.indexFiles = nil
	r.indexLoaded, r.indexFresh = false, false
}

// SaveIndex writes one index file for the packs uploaded since the last
// one. It is a no-op when there are none; when another SaveIndex is
// writing, it waits for it, so that on return the packs uploaded before
// the call are in stored index files.
func (r *Repository) SaveIndex(ctx context.Context) error {
	r.indexMu.Lock()
	defer r.indexMu.Unlock()
	r.mu.Lock()
	packs := r.unsavedPacks
	r.unsavedPacks = nil
	r.mu.Unlock()
	for len(packs) > 0 {
		// A file ends once it holds index.MaxFileEntries entries, never
		// inside a pack, which bounds its size (docs/design.md, "File
		// sizes").
		n, entries := 0, 0
		for n < len(packs) && entries < index.MaxFileEntries {
			entries += len(packs[n].Blobs)
			n++
		}
		id, err := r.SaveFile(ctx, backend.IndexFile, index.Encode(&index.File{Packs: packs[:n]}))
		if err != nil {
			r.mu.Lock()
			r.unsavedPacks = append(packs, r.unsavedPacks...)
			r.mu.Unlock()
			return fmt.Errorf("writing index: %w", err)
		}
		r.mu.Lock()
		r.indexFiles = append(r.indexFiles, id)
		r.mu.Unlock()
		packs = packs[n:]
	}
	return nil
}

// List returns the IDs of every file of type t. Names that are not IDs
// (nothing strata writes) are skipped.
func (r *Repository) List(ctx context.Context, t backend.FileType) ([]pack.ID, error) {
	var ids []pack.ID
	err := r.be.List(ctx, t, func(fi backend.FileInfo) error {
		id, err := pack.ParseID(fi.Handle.Name)
		if err != nil {
			return nil
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", t, err)
	}
	return ids, nil
}

// EachIndexedBlob calls fn for every blob entry of the index files in use,
// with the full detail the files keep (RawLength included).
func (r *Repository) EachIndexedBlob(ctx context.Context, fn func(packID pack.ID, b pack.Blob) error) error {
	for _, id := range r.IndexFiles() {
		plain, err := r.LoadFile(ctx, backend.IndexFile, id)
		if err != nil {
			return &IndexFileError{File: id, Err: err}
		}
		f, err := index.Decode(plain)
		if err != nil {
			return &IndexFileError{File: id, Err: err}
		}
		for _, p := range f.Packs {
			for _, b := range p.Blobs {
				if err := fn(p.PackID, b); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
