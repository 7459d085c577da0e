package repo

import (
	"context"
	"fmt"
	"slices"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/crypto"
)

// Writing the journal (docs/design.md, "The journal"). Every save of a
// file of a recorded kind through a repository handle is followed by a
// journal file recording its add, and every removal is preceded by one
// recording its removal (lockGuard calls journalAdded and
// journalRemoving), so no writer can forget to record; RecordRemovals
// records many removals in one file ahead of them.

// writeJournal stores one journal file holding recs under the next
// sequence number: one more than the highest in storage and than any this
// handle wrote. Two writers under shared locks may pick the same number;
// their records are about different files.
func (r *Repository) writeJournal(ctx context.Context, base bool, recs []JournalRecord) (string, error) {
	var maxSeq uint64
	err := r.be.List(ctx, backend.JournalFile, func(fi backend.FileInfo) error {
		if seq, _, err := ParseJournalName(fi.Handle.Name); err == nil {
			maxSeq = max(maxSeq, seq)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("listing journal files: %w", err)
	}
	r.mu.Lock()
	seq := max(maxSeq, r.journalSeq) + 1
	r.journalSeq = seq
	r.mu.Unlock()
	if recs == nil {
		recs = []JournalRecord{}
	}
	plain, err := EncodeJournalFile(&JournalFile{Seq: seq, Time: r.opts.Now().UTC(), Base: base, Records: recs})
	if err != nil {
		return "", err
	}
	sealed := r.key.Seal(nil, plain)
	if len(sealed) > MaxJournalFileSize {
		return "", fmt.Errorf("a journal file of %d records would hold %d bytes, more than the %d a reader loads", len(recs), len(sealed), MaxJournalFileSize)
	}
	h := backend.Handle{Type: backend.JournalFile, Name: journalName(seq, crypto.FileID(sealed))}
	if err := saveBytes(ctx, r.be, h, sealed); err != nil {
		return "", fmt.Errorf("saving %v: %w", h, err)
	}
	return h.Name, nil
}

// journalRecord returns the record of a file of type t named name that is
// stored with the sealed bytes data (only read for protect files), or
// false when t is not recorded or name is not a file ID.
func (r *Repository) journalRecord(op JournalOp, t backend.FileType, name string, data []byte) (JournalRecord, bool) {
	id, err := pack.ParseID(name)
	if !isJournalKind(t) || err != nil {
		return JournalRecord{}, false
	}
	rec := JournalRecord{Op: op, Kind: t, ID: id}
	if t == backend.ProtectFile && data != nil {
		if plain, err := r.key.Open(nil, data); err == nil {
			if p, err := DecodeProtection(plain); err == nil {
				rec.Snapshot = &p.Snapshot
			}
		}
	}
	return rec, true
}

// journalAdded records that h was stored. A failure is a notice, not an
// error: the file is stored, and check reports it as not recorded (a
// notice too), which the next compaction mends.
func (r *Repository) journalAdded(ctx context.Context, h backend.Handle, data []byte) {
	rec, ok := r.journalRecord(JournalAdd, h.Type, h.Name, data)
	if !ok {
		return
	}
	if _, err := r.writeJournal(ctx, false, []JournalRecord{rec}); err != nil {
		r.Notify("%v is stored, but recording it in the journal failed: %v (check reports it as not recorded; the next prune records it)", h, err)
	}
}

// journalRemoving records that h is about to be removed, unless
// RecordRemovals did. A failure stops the removal: a file removed without
// a record would read as lost.
func (r *Repository) journalRemoving(ctx context.Context, h backend.Handle) error {
	rec, ok := r.journalRecord(JournalRemove, h.Type, h.Name, nil)
	if !ok {
		return nil
	}
	r.mu.Lock()
	pending := r.journalPending[rec.Key()]
	delete(r.journalPending, rec.Key())
	r.mu.Unlock()
	if pending {
		return nil
	}
	if _, err := r.writeJournal(ctx, false, []JournalRecord{rec}); err != nil {
		return fmt.Errorf("recording the removal of %v in the journal: %w", h, err)
	}
	return nil
}

// RecordRemovals records in one journal file that the files keys name are
// about to be removed; their removals through this handle then write no
// journal file of their own. Commands that remove many files at once
// (forget, prune) call it first.
func (r *Repository) RecordRemovals(ctx context.Context, keys []JournalKey) error {
	if len(keys) == 0 {
		return nil
	}
	recs := make([]JournalRecord, 0, len(keys))
	for _, k := range keys {
		recs = append(recs, JournalRecord{Op: JournalRemove, Kind: k.Kind, ID: k.ID})
	}
	if _, err := r.writeJournal(ctx, false, recs); err != nil {
		return err
	}
	r.mu.Lock()
	for _, k := range keys {
		r.journalPending[k] = true
	}
	r.mu.Unlock()
	return nil
}

// CompactOptions tune CompactJournal.
type CompactOptions struct {
	// AcceptLoss lists the kinds whose recorded files that storage no
	// longer holds are recorded as gone (repair index: the index files
	// it rebuilt; repair journal: every kind). Without it a lost file
	// stays recorded, so check goes on reporting it.
	AcceptLoss []backend.FileType
	// Repair writes the journal anew even when it is damaged, has gaps or
	// was never started in a repository that must have one (repair
	// journal), and removes every older journal file, damaged ones too.
	Repair bool
}

// JournalCompaction says what CompactJournal did.
type JournalCompaction struct {
	// Skipped says why nothing was written (the journal is damaged and
	// only repair journal rewrites it); empty when it was compacted.
	Skipped  string
	Base     string       // the name of the base file written
	Adopted  []JournalKey // files stored but not recorded, now recorded
	Lost     []JournalKey // recorded files no longer stored, now recorded as gone (AcceptLoss)
	Missing  []JournalKey // recorded files no longer stored, still recorded
	Replaced int          // older journal files removed
}

// CompactJournal writes one base file recording every file the
// repository holds, then removes the older journal files. It is called
// with the exclusive lock held (forget, prune, the repairs), so no other
// writer records meanwhile. Unless opts.Repair, a damaged journal is left
// as it is (check reports it): compacting it would hide the damage.
// Files stored but not recorded (a crash between a save and its record)
// are recorded; recorded files that are gone stay recorded, unless their
// kind is in opts.AcceptLoss. A crash after the base file is written
// leaves older files, which the base file overrides.
func (r *Repository) CompactJournal(ctx context.Context, opts CompactOptions) (*JournalCompaction, error) {
	j, err := r.LoadJournal(ctx)
	if err != nil {
		return nil, err
	}
	res := &JournalCompaction{}
	if !opts.Repair && !j.Healthy() {
		if j.Started || r.cfg.Version >= JournalVersion {
			res.Skipped = "the journal is damaged (strata check names what; strata repair journal writes it anew)"
			return res, nil
		}
		// A repository made before the journal: this starts it.
	}
	present, err := r.JournalPresent(ctx)
	if err != nil {
		return nil, err
	}
	live := map[JournalKey]JournalRecord{}
	for k, rec := range j.Live {
		switch {
		case present[k]:
			live[k] = rec
		case slices.Contains(opts.AcceptLoss, k.Kind):
			res.Lost = append(res.Lost, k)
		default:
			live[k] = rec
			res.Missing = append(res.Missing, k)
		}
	}
	for k := range present {
		if _, ok := live[k]; ok {
			continue
		}
		rec := JournalRecord{Op: JournalAdd, Kind: k.Kind, ID: k.ID}
		if k.Kind == backend.ProtectFile {
			if plain, err := r.LoadFile(ctx, k.Kind, k.ID); err == nil {
				if p, err := DecodeProtection(plain); err == nil {
					rec.Snapshot = &p.Snapshot
				}
			}
		}
		live[k] = rec
		res.Adopted = append(res.Adopted, k)
	}
	if len(j.Files) == 1 && j.Healthy() && len(res.Adopted) == 0 && len(res.Lost) == 0 && j.Files[0].File.Base {
		// Compact already: one base file, nothing to add or drop.
		res.Base = j.Files[0].Name
		return res, nil
	}
	recs := make([]JournalRecord, 0, len(live))
	for _, rec := range live {
		rec.Op = JournalAdd
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b JournalRecord) int { return compareKeys(a.Key(), b.Key()) })
	slices.SortFunc(res.Adopted, compareKeys)
	slices.SortFunc(res.Lost, compareKeys)
	slices.SortFunc(res.Missing, compareKeys)
	if res.Base, err = r.writeJournal(ctx, true, recs); err != nil {
		return nil, fmt.Errorf("writing the journal's base file: %w", err)
	}
	for _, f := range j.Files {
		if f.File == nil && !opts.Repair {
			continue
		}
		h := backend.Handle{Type: backend.JournalFile, Name: f.Name}
		if err := r.be.Remove(ctx, h); err != nil {
			return res, fmt.Errorf("removing %v after writing the journal's base file %s: %w", h, res.Base, err)
		}
		res.Replaced++
	}
	return res, nil
}
