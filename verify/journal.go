package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// MissingFile: the journal records a snapshot, key, policy, protect or
// index file that storage no longer holds: it was deleted (docs/design.md,
// "The journal"). Snapshots are the snapshots it affects: a snapshot
// file's own ID, or the snapshot a protect file protected. Protected: an
// active protection names the missing snapshot.
type MissingFile struct {
	Kind      backend.FileType
	ID        pack.ID
	Snapshots []pack.ID
	Protected bool
}

func (*MissingFile) Severity() Severity { return SeverityError }

func (e *MissingFile) Error() string {
	h := handle(e.Kind, e.ID)
	switch e.Kind {
	case backend.SnapshotFile:
		s := fmt.Sprintf("snapshot file %s is missing: the journal records it, storage no longer holds it, so snapshot %s "+
			"and everything in it cannot be restored", h, e.ID.Short())
		if e.Protected {
			s += " (it is protected)"
		}
		return s
	case backend.KeyFile:
		return fmt.Sprintf("key file %s is missing: the journal records it, storage no longer holds it, so its password no longer opens the repository", h)
	case backend.PolicyFile:
		return fmt.Sprintf("policy file %s is missing: the journal records it, storage no longer holds it, so forget without rules "+
			"applies an older policy or none", h)
	case backend.ProtectFile:
		s := fmt.Sprintf("protect file %s is missing: the journal records it, storage no longer holds it", h)
		if len(e.Snapshots) > 0 {
			s += fmt.Sprintf(", so snapshot %s is no longer protected from forget", e.Snapshots[0].Short())
		}
		return s
	}
	return fmt.Sprintf("index file %s is missing: the journal records it, storage no longer holds it; "+
		"what it listed is in the pack headers, which repair index reads", h)
}

// UnrecordedFiles: files are stored that the journal does not record as
// held: a writer stopped between saving a file and recording it, or
// between recording a removal and removing the file, or a journal file
// was lost. A notice: the next forget, prune or repair records them.
type UnrecordedFiles struct {
	Files []repo.JournalKey
}

func (*UnrecordedFiles) Severity() Severity { return SeverityNotice }

func (e *UnrecordedFiles) Error() string {
	var names []string
	for i, k := range e.Files {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(e.Files)-5))
			break
		}
		names = append(names, string(k.Kind)+"/"+k.ID.Short())
	}
	return fmt.Sprintf("%d stored %s not recorded in the journal (%s): a command stopped between saving and recording; "+
		"the next forget, prune or repair records %s", len(e.Files), plural(len(e.Files), "file is", "files are"),
		strings.Join(names, ", "), plural(len(e.Files), "it", "them"))
}

// DamagedJournalFile: a journal file cannot be read, opened or decoded,
// or is stored under a wrong name. Its records are lost (unless it only
// has the wrong name): files it recorded read as not recorded, files
// whose removal it recorded may read as missing.
type DamagedJournalFile struct {
	Name string
	Err  error `json:"-"`
}

func (*DamagedJournalFile) Severity() Severity { return SeverityError }
func (e *DamagedJournalFile) Unwrap() error    { return e.Err }
func (e *DamagedJournalFile) Error() string {
	return fmt.Sprintf("journal file %s (journal/%s) is damaged: %v", e.Name[:min(16, len(e.Name))], e.Name, e.Err)
}

func (e *DamagedJournalFile) MarshalJSON() ([]byte, error) {
	type fields DamagedJournalFile
	return withErr((*fields)(e), e.Err)
}

// MissingJournalFiles: journal files were deleted. Seqs are the sequence
// numbers missing between the journal's base file and its newest file.
// NoBase: there is no base file at all, in a repository of a version
// that keeps a journal from init on, so the whole journal or its base
// file is gone; Seqs are then the numbers below the lowest journal file
// left (the base file's is among them; a compaction removes the files
// before a base file, so not all of them need have existed), the first
// four and the last when there are more than five, none when journal/ is
// empty.
type MissingJournalFiles struct {
	Seqs   []uint64
	NoBase bool
}

func (*MissingJournalFiles) Severity() Severity { return SeverityError }

func (e *MissingJournalFiles) Error() string {
	if e.NoBase && len(e.Seqs) == 0 {
		return "the journal has no readable base file (journal/ is empty, or its base file is damaged): " +
			"the deletion of a snapshot, key, policy, protect or index file cannot be checked"
	}
	seqs := seqList(e.Seqs)
	if e.NoBase {
		return fmt.Sprintf("the journal has no base file: journal %s %s %s missing (deleted), the base file among them; "+
			"the deletion of a snapshot, key, policy, protect or index file cannot be checked",
			plural(len(e.Seqs), "file", "files"), seqs, plural(len(e.Seqs), "is", "are"))
	}
	return fmt.Sprintf("journal %s %s %s missing (deleted): what %s recorded is lost",
		plural(len(e.Seqs), "file", "files"), seqs, plural(len(e.Seqs), "is", "are"), plural(len(e.Seqs), "it", "they"))
}

// seqList names sequence numbers as journal file names begin: up to five
// one by one, more as a range.
func seqList(seqs []uint64) string {
	if len(seqs) > 5 || len(seqs) > 1 && seqs[len(seqs)-1]-seqs[0] >= uint64(len(seqs)) {
		return fmt.Sprintf("%016x to %016x", seqs[0], seqs[len(seqs)-1])
	}
	var s []string
	for _, q := range seqs {
		s = append(s, fmt.Sprintf("%016x", q))
	}
	return strings.Join(s, ", ")
}

// NoJournal: a repository made before strata kept a journal, whose
// journal was not started yet. A notice: nothing is damaged, but the
// deletion of a file of the kinds the journal records goes unnoticed.
type NoJournal struct{}

func (*NoJournal) Severity() Severity { return SeverityNotice }
func (*NoJournal) Error() string {
	return "this repository was made before strata kept a journal and none was started yet: the deletion of a snapshot, key, " +
		"policy, protect or index file cannot be detected until one is"
}

// checkJournal compares what the journal j records with the files
// storage holds (docs/design.md, "The journal").
func (c *checker) checkJournal(ctx context.Context, j *repo.Journal) error {
	for _, f := range j.Files {
		if f.Err != nil {
			c.report.Findings = append(c.report.Findings, &DamagedJournalFile{Name: f.Name, Err: f.Err})
		}
	}
	required := c.r.Config().Version >= repo.JournalVersion
	switch {
	case !j.Started && required:
		m := &MissingJournalFiles{NoBase: true}
		var lowest uint64
		for _, f := range j.Files {
			if f.Seq > 0 && (lowest == 0 || f.Seq < lowest) {
				lowest = f.Seq
			}
		}
		// Listed up to 5; more (a journal compacted many times) as a
		// range of the first and last.
		for s := uint64(1); s < lowest; s++ {
			if s == 5 && lowest > 6 {
				s = lowest - 1
			}
			m.Seqs = append(m.Seqs, s)
		}
		c.report.Findings = append(c.report.Findings, m)
	case !j.Started:
		c.report.Findings = append(c.report.Findings, &NoJournal{})
	case len(j.Gaps) > 0:
		c.report.Findings = append(c.report.Findings, &MissingJournalFiles{Seqs: j.Gaps})
	}
	present, err := c.r.JournalPresent(ctx)
	if err != nil {
		return err
	}
	active := map[pack.ID]bool{}
	if prots, err := c.r.Protections(ctx); err == nil {
		for _, p := range prots {
			if p.Active(c.r.Now()) {
				active[p.Snapshot] = true
			}
		}
	}
	var missing []*MissingFile
	for k, rec := range j.Live {
		if present[k] {
			continue
		}
		m := &MissingFile{Kind: k.Kind, ID: k.ID}
		switch {
		case k.Kind == backend.SnapshotFile:
			m.Snapshots, m.Protected = []pack.ID{k.ID}, active[k.ID]
		case rec.Snapshot != nil:
			m.Snapshots = []pack.ID{*rec.Snapshot}
		}
		missing = append(missing, m)
	}
	if len(missing) > 0 {
		// check holds a shared lock: a backup may have saved and recorded
		// a file after the listing, a policy set recorded a removal and
		// removed the file after the journal was read. A file is missing
		// only if the journal read again still records it (a removal is
		// recorded before the file goes) and storage still lacks it (an
		// add is recorded after the file is stored).
		again, err := c.r.LoadJournal(ctx)
		if err != nil {
			return err
		}
		missing = slices.DeleteFunc(missing, func(m *MissingFile) bool {
			k := repo.JournalKey{Kind: m.Kind, ID: m.ID}
			if _, live := again.Live[k]; !live {
				return true
			}
			_, err := c.r.Backend().Stat(ctx, backend.Handle{Type: m.Kind, Name: m.ID.String()})
			return !errors.Is(err, backend.ErrNotExist)
		})
	}
	slices.SortFunc(missing, func(a, b *MissingFile) int {
		return strings.Compare(string(a.Kind)+a.ID.String(), string(b.Kind)+b.ID.String())
	})
	for _, m := range missing {
		c.report.Findings = append(c.report.Findings, m)
	}
	if j.Started {
		var unrecorded []repo.JournalKey
		for k := range present {
			if _, ok := j.Live[k]; !ok {
				unrecorded = append(unrecorded, k)
			}
		}
		if len(unrecorded) > 0 {
			slices.SortFunc(unrecorded, func(a, b repo.JournalKey) int {
				return strings.Compare(a.String(), b.String())
			})
			c.unrecorded = &UnrecordedFiles{Files: unrecorded}
		}
	}
	return nil
}
