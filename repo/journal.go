package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// The journal records which snapshot, key, policy, protect and index files
// a repository holds, so that check can tell when one of them was deleted
// (docs/design.md, "The journal"). Its files are write-once and sealed as
// snapshot files are:
//
//	journal/<seq: 16 lowercase hex digits>-<file ID: 64 lowercase hex digits>
//	Sealed = Seal(JSON of JournalFile)
//
// where file ID is the BLAKE3-256 of the sealed bytes and seq the
// JournalFile's Seq.

// JournalOp is what a journal record says happened to a file.
type JournalOp string

// The two operations.
const (
	JournalAdd    JournalOp = "add"    // the file was stored (recorded after it was)
	JournalRemove JournalOp = "remove" // the file is about to be removed (recorded before)
)

// JournalKinds are the file types the journal records, by their folder.
var JournalKinds = []backend.FileType{backend.SnapshotFile, backend.KeyFile, backend.PolicyFile, backend.ProtectFile, backend.IndexFile}

// JournalRecord is one record: a file of Kind named ID was added or is
// being removed. Snapshot is set on the records of protect files: the
// snapshot the protection names, so that check can say which snapshot
// lost its protection when the file is gone.
type JournalRecord struct {
	Op       JournalOp        `json:"op"`
	Kind     backend.FileType `json:"kind"`
	ID       pack.ID          `json:"id"`
	Snapshot *pack.ID         `json:"snapshot,omitempty"`
}

// Key returns the file the record is about.
func (rec JournalRecord) Key() JournalKey { return JournalKey{Kind: rec.Kind, ID: rec.ID} }

// JournalKey names one recorded file.
type JournalKey struct {
	Kind backend.FileType
	ID   pack.ID
}

func (k JournalKey) String() string { return string(k.Kind) + "/" + k.ID.String() }

// JournalFile is the sealed JSON of one journal file. A base file (Base)
// lists, as adds, every file the repository holds: reading the journal
// forgets every record of files ordered before it. It is written by init
// and by the commands that compact the journal.
type JournalFile struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Base    bool            `json:"base,omitempty"`
	Records []JournalRecord `json:"records"`
}

// journalName is the name of a journal file: its sequence number and its
// file ID.
func journalName(seq uint64, id pack.ID) string {
	return fmt.Sprintf("%016x-%s", seq, id)
}

// ParseJournalName splits a journal file's name into its sequence number
// and file ID.
func ParseJournalName(name string) (uint64, pack.ID, error) {
	seqHex, idHex, ok := strings.Cut(name, "-")
	if !ok || len(seqHex) != 16 {
		return 0, pack.ID{}, fmt.Errorf("journal file name %q is not <16 hex digits>-<file ID>", name)
	}
	seq, err := strconv.ParseUint(seqHex, 16, 64)
	if err != nil || strings.ToLower(seqHex) != seqHex {
		return 0, pack.ID{}, fmt.Errorf("journal file name %q: sequence number is not 16 lowercase hex digits", name)
	}
	id, err := pack.ParseID(idHex)
	if err != nil || id.String() != idHex {
		return 0, pack.ID{}, fmt.Errorf("journal file name %q: file ID is not 64 lowercase hex digits", name)
	}
	return seq, id, nil
}

// EncodeJournalFile returns the JSON of f.
func EncodeJournalFile(f *JournalFile) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(f)
}

// DecodeJournalFile decodes and validates the JSON of a journal file. It
// refuses fields it does not know: a record of a kind or operation this
// version does not understand would otherwise be dropped silently.
func DecodeJournalFile(b []byte) (*JournalFile, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	f := &JournalFile{}
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("journal file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("journal file: data after the JSON object")
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *JournalFile) validate() error {
	if f.Seq == 0 {
		return errors.New("journal file: sequence number 0")
	}
	if f.Records == nil {
		return errors.New("journal file: no records list")
	}
	for i, rec := range f.Records {
		switch rec.Op {
		case JournalAdd:
		case JournalRemove:
			if f.Base {
				return fmt.Errorf("journal file: record %d: a base file holds only adds", i)
			}
		default:
			return fmt.Errorf("journal file: record %d: unknown operation %q", i, rec.Op)
		}
		if !isJournalKind(rec.Kind) {
			return fmt.Errorf("journal file: record %d: unknown kind %q", i, rec.Kind)
		}
		if rec.Snapshot != nil && rec.Kind != backend.ProtectFile {
			return fmt.Errorf("journal file: record %d: only protect records name a snapshot", i)
		}
	}
	return nil
}

func isJournalKind(t backend.FileType) bool {
	for _, k := range JournalKinds {
		if k == t {
			return true
		}
	}
	return false
}
