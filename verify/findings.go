package verify

import (
	"fmt"
	"strings"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// Severity says whether a finding is damage or only worth knowing.
type Severity int

const (
	// SeverityNotice: nothing is damaged (unreferenced packs, say).
	SeverityNotice Severity = iota
	// SeverityError: data is damaged, missing or inconsistent; Report.OK
	// is false.
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityNotice {
		return "notice"
	}
	return "error"
}

// Finding is one problem check found. Every finding is one of the pointer
// types below; use errors.As or a type switch to get at its IDs. Blob and
// snapshot lists are sorted by ID. Findings marshal to JSON with their
// fields, IDs in hex, and Err as the string "error".
type Finding interface {
	error
	Severity() Severity
}

// DamagedIndexFile: an index file could not be read, opened or decoded.
// Its packs are then reported as unreferenced and the blobs only it listed
// as missing. Nothing is lost if those packs are intact: their headers
// list the same blobs.
type DamagedIndexFile struct {
	File pack.ID
	Err  error `json:"-"`
}

// MissingPack: the index names a pack that is not in storage. Blobs are
// the blobs the index places in it; Snapshots those that lose data because
// some of these blobs have no other intact copy.
type MissingPack struct {
	Pack      pack.ID
	Blobs     []pack.ID
	Snapshots []pack.ID
}

// PackHeaderMismatch: the index and the pack's header disagree about the
// pack's blobs. Blobs are the index entries without an identical header
// entry; a load through such an entry fails unless --read-data showed it
// still works. Snapshots lose data through them as for MissingPack.
type PackHeaderMismatch struct {
	Pack      pack.ID
	Detail    string
	Blobs     []pack.ID
	Snapshots []pack.ID
}

// DamagedPack: a pack's bytes do not hash to its name, it cannot be read,
// its header cannot be opened, or (with --read-data) some of its blobs fail
// to decrypt, decompress or match their ID. DataRead says whether the whole
// pack was read and its blobs verified. Blobs are the blobs found damaged
// (none when only the header, its length or the hash is wrong, or when the
// data was not read); Snapshots those that lose data because some of these
// blobs have no other intact copy.
type DamagedPack struct {
	Pack      pack.ID
	Blobs     []pack.ID
	Snapshots []pack.ID
	DataRead  bool
	Err       error `json:"-"`
}

// MissingBlob: a snapshot references a tree or data blob that is not in
// the index. Snapshot and Path say where check met it first; Snapshots are
// all the snapshots that reference it. InPack, when set, is an
// unreferenced pack whose header lists the blob: rebuilding the index
// brings it back; else its data is lost.
type MissingBlob struct {
	Blob      pack.ID
	Type      pack.BlobType
	Snapshot  pack.ID
	Path      string
	Snapshots []pack.ID
	InPack    pack.ID
}

// MissingBase: the index holds delta blob Blob, whose base Base is not
// indexed, so Blob cannot be decoded. Snapshots lose data through Blob
// (unless it has another, plain copy). BaseInPack, when set, is an
// unreferenced pack whose header lists the base.
type MissingBase struct {
	Blob       pack.ID
	Base       pack.ID
	Snapshots  []pack.ID
	BaseInPack pack.ID
}

// DamagedBlob: a blob in a pack that was not read (a subset check) failed
// to load while it served as the base of a delta blob being verified.
type DamagedBlob struct {
	Blob      pack.ID
	Snapshots []pack.ID
	Err       error `json:"-"`
}

// DamagedSnapshot: a snapshot file could not be read, opened or decoded.
// Protected: an active protection names it, so `repair snapshots
// --forget` keeps it until `strata unprotect` releases it.
type DamagedSnapshot struct {
	Snapshot  pack.ID
	Protected bool
	Err       error `json:"-"`
}

// DamagedTree: a tree blob is indexed but could not be loaded or decoded,
// and no pack finding explains it. Snapshot and Path say where check met it
// first; Snapshots are all the snapshots that reference it.
type DamagedTree struct {
	Tree      pack.ID
	Snapshot  pack.ID
	Path      string
	Snapshots []pack.ID
	Err       error `json:"-"`
}

// DamagedLog: the change log of a table node (docs/design.md, "Table
// change logs") is indexed and intact in its pack, but cannot be decoded
// or does not fit the base it is written against (an op on a row the base
// chunk does not have, ops out of order, totals that differ from the
// base's pages), so no reader can apply it: the table's rows in the
// snapshots that use it cannot be restored. Snapshot and Path say where
// check met it first; Snapshots are all the snapshots that use it.
type DamagedLog struct {
	Log       pack.ID
	Snapshot  pack.ID
	Path      string
	Snapshots []pack.ID
	Err       error `json:"-"`
}

// SingleCopyTrees (a notice): tree blobs that the snapshots reach with
// fewer intact copies than writers keep (repo.TreeCopies), but at least
// one: an older strata stored them once, or a copy was lost with a
// damaged or missing pack (reported on its own). Nothing is lost, but one
// more damaged pack could lose the snapshots' structure.
type SingleCopyTrees struct {
	Trees []pack.ID
}

// UnreferencedPacks (a notice): packs in storage that no index file names,
// left by an interrupted backup. Their blobs are not used.
type UnreferencedPacks struct {
	Packs []pack.ID
}

func (*DamagedIndexFile) Severity() Severity   { return SeverityError }
func (*MissingPack) Severity() Severity        { return SeverityError }
func (*PackHeaderMismatch) Severity() Severity { return SeverityError }
func (*DamagedPack) Severity() Severity        { return SeverityError }
func (*MissingBlob) Severity() Severity        { return SeverityError }
func (*MissingBase) Severity() Severity        { return SeverityError }
func (*DamagedBlob) Severity() Severity        { return SeverityError }
func (*DamagedSnapshot) Severity() Severity    { return SeverityError }
func (*DamagedTree) Severity() Severity        { return SeverityError }
func (*DamagedLog) Severity() Severity         { return SeverityError }
func (*UnreferencedPacks) Severity() Severity  { return SeverityNotice }
func (*SingleCopyTrees) Severity() Severity    { return SeverityNotice }

func (e *DamagedIndexFile) Unwrap() error { return e.Err }
func (e *DamagedPack) Unwrap() error      { return e.Err }
func (e *DamagedBlob) Unwrap() error      { return e.Err }
func (e *DamagedSnapshot) Unwrap() error  { return e.Err }
func (e *DamagedTree) Unwrap() error      { return e.Err }
func (e *DamagedLog) Unwrap() error       { return e.Err }

func (e *DamagedIndexFile) Error() string {
	return fmt.Sprintf("index file %s is damaged: %v; packs only it lists are reported as unreferenced, and "+
		"nothing is lost if they are intact (`strata repair index` rebuilds the index from the pack headers)",
		handle(backend.IndexFile, e.File), e.Err)
}

func (e *MissingPack) Error() string {
	return fmt.Sprintf("pack %s is named by the index but missing from storage; %s",
		handle(backend.PackFile, e.Pack), lossAdvice(e.Snapshots, e.Blobs, "this pack"))
}

func (e *PackHeaderMismatch) Error() string {
	s := fmt.Sprintf("pack %s does not match the index: %s", handle(backend.PackFile, e.Pack), e.Detail)
	if len(e.Snapshots) > 0 {
		s += fmt.Sprintf("; %s cannot be loaded through the index, so %s cannot be fully restored",
			blobList(e.Blobs), snapshotList(e.Snapshots))
	}
	return s + "; the pack header is authoritative: `strata repair index --read-all-packs` rebuilds the index from it"
}

func (e *DamagedPack) Error() string {
	s := fmt.Sprintf("pack %s is damaged: %v", handle(backend.PackFile, e.Pack), e.Err)
	switch {
	case len(e.Blobs) == 0 && !e.DataRead:
		return s + "; its blobs were not read: `strata repair packs " + e.Pack.Short() +
			"` reads them, keeps every one that verifies and names the others (`strata check --read-data` only reports them)"
	case len(e.Blobs) == 0:
		return s + "; every blob in it still loads through the index, so no snapshot loses data yet, " +
			"but the pack must not be trusted: restore the file from another copy of the repository if you have one, " +
			"or `strata repair packs " + e.Pack.Short() + "` copies its blobs into new packs and removes it"
	}
	return s + "; " + lossAdvice(e.Snapshots, e.Blobs, "this pack") +
		"; `strata repair packs " + e.Pack.Short() + "` keeps the blobs that verify and removes the pack"
}

func (e *MissingBlob) Error() string {
	s := fmt.Sprintf("%s blob %s, referenced by snapshot %s at %s, is not in the index; %s cannot be fully restored",
		e.Type, e.Blob.Short(), e.Snapshot.Short(), e.Path, snapshotList(e.Snapshots))
	if !e.InPack.IsNull() {
		return s + fmt.Sprintf(" until the index lists it again: unreferenced pack %s holds it (`strata repair index`)", e.InPack.Short())
	}
	return s + "; no pack holds it, so its data is lost unless another copy of the repository has it " +
		"(`strata repair snapshots` removes it from the snapshots)"
}

func (e *MissingBase) Error() string {
	s := fmt.Sprintf("delta blob %s cannot be decoded: its base %s is not in the index", e.Blob.Short(), e.Base.Short())
	if !e.BaseInPack.IsNull() {
		return s + fmt.Sprintf("; unreferenced pack %s holds the base (`strata repair index`)", e.BaseInPack.Short())
	}
	return s + "; " + lossAdvice(e.Snapshots, []pack.ID{e.Blob}, "the base")
}

func (e *DamagedBlob) Error() string {
	return fmt.Sprintf("blob %s cannot be loaded (found while verifying a delta blob built on it): %v; %s",
		e.Blob.Short(), e.Err, lossAdvice(e.Snapshots, []pack.ID{e.Blob}, "its pack"))
}

func (e *DamagedSnapshot) Error() string {
	return fmt.Sprintf("snapshot file %s is damaged: %v; this snapshot cannot be listed or restored, other snapshots are not affected; "+
		"restore the file from another copy of the repository if you have one, else `strata repair snapshots --forget` removes it",
		handle(backend.SnapshotFile, e.Snapshot), e.Err)
}

func (e *DamagedTree) Error() string {
	return fmt.Sprintf("tree blob %s (first met in snapshot %s at %s) cannot be loaded: %v; "+
		"%s cannot be restored below that folder",
		e.Tree.Short(), e.Snapshot.Short(), e.Path, e.Err, snapshotList(e.Snapshots))
}

func (e *DamagedLog) Error() string {
	return fmt.Sprintf("change log %s of table %s (first met in snapshot %s) does not fit its base: %v; "+
		"%s cannot restore that table (the snapshot that wrote the base still can); "+
		"`strata repair snapshots --forget` replaces %s by a repaired snapshot without the table's rows",
		e.Log.Short(), e.Path, e.Snapshot.Short(), e.Err, snapshotList(e.Snapshots), plural(len(e.Snapshots), "it", "them"))
}

func (e *SingleCopyTrees) Error() string {
	return fmt.Sprintf("%d tree %s one intact copy where strata keeps %d (stored by an older strata, or a copy was in a damaged or missing pack): %s; "+
		"`strata repair packs` writes the missing copies", len(e.Trees), plural(len(e.Trees), "blob has", "blobs have"),
		repo.TreeCopies, idList(e.Trees))
}

func (e *UnreferencedPacks) Error() string {
	n := len(e.Packs)
	return fmt.Sprintf("%d pack%s not referenced by the index (left by an interrupted backup; `strata prune` removes %s): %s",
		n, plural(n, " is", "s are"), plural(n, "it", "them"), idList(e.Packs))
}

// lossAdvice says which snapshots lose data through blobs, and what can
// still be done.
func lossAdvice(snapshots, blobs []pack.ID, where string) string {
	if len(snapshots) == 0 {
		return fmt.Sprintf("no snapshot loses data through %s (another intact copy exists, or no snapshot uses it)", blobList(blobs))
	}
	return fmt.Sprintf("%s cannot be fully restored: %s on %s, whose data is lost unless another copy of the repository has %s",
		snapshotList(snapshots), plural(len(snapshots), "it depends", "they depend"), blobList(blobs), where)
}

func snapshotList(ids []pack.ID) string {
	return plural(len(ids), "snapshot ", "snapshots ") + idList(ids)
}

// maxListed bounds how many IDs a message names; the finding's fields
// hold all of them.
const maxListed = 5

func idList(ids []pack.ID) string {
	var b strings.Builder
	for i, id := range ids {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(ids)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(id.Short())
	}
	return b.String()
}

func blobList(ids []pack.ID) string {
	switch len(ids) {
	case 0:
		return "no blobs"
	case 1:
		return "blob " + ids[0].Short()
	}
	return fmt.Sprintf("%d blobs (%s)", len(ids), idList(ids))
}

func handle(t backend.FileType, id pack.ID) string {
	return backend.Handle{Type: t, Name: id.String()}.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
