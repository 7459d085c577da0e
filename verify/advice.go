package verify

import (
	"fmt"
	"slices"
	"strings"

	"strata/pack"
	"strata/repo/backend"
)

// Step is one thing to do about what check found (docs/design.md,
// "repair"). Steps come in the order they must be taken.
type Step struct {
	// Command is the command to run, or empty when no command does it
	// (restore a file from another copy of the repository, say).
	Command string `json:"command"`
	// Why says what the step fixes.
	Why string `json:"why"`
}

// WhatToDo chooses, from the findings, the steps that fix them: none when
// check found nothing. The index comes first, since the other repairs
// read it; then damaged packs are replaced by what of them verifies; lost
// data is then cut out of the snapshots, which a new backup replaces.
func (r *Report) WhatToDo() []Step {
	var keys []*DamagedKeyFile // damaged key files
	var (
		index, readAll     bool      // the index lacks or misstates entries
		lost, lostInPack   bool      // blobs are gone; lostInPack: a base in a pack not read failed
		damaged            []pack.ID // packs to replace: repair packs salvages what verifies
		snapshots          []pack.ID // snapshot files that cannot be read
		misnamed           []pack.ID // snapshot files stored under a wrong name
		misnamedOther      []string  // protect and policy files stored under a wrong name
		protectedSnapshots []pack.ID // of those, the ones an active protection names
		policy, protect    bool      // damaged policy or protect files
		copies             bool      // tree blobs lack their second copy
		config             bool      // the file config is damaged
		configNoCopy       bool      // and no key file holds a copy of it
		noConfigCopy       bool      // no key file holds a copy of the config
		missingFiles       []*MissingFile
		journal            []string  // what is wrong with the journal itself
		auditTrail         bool      // audit records are damaged or missing
		unrecorded         []pack.ID // snapshots no audit record names
		retentions         bool      // object lock retentions run out soon
	)
	for _, f := range r.Findings {
		switch f := f.(type) {
		case *DamagedIndexFile:
			index = true
		case *MissingPack:
			index = true // its entries must go
			lost = lost || len(f.Snapshots) > 0
		case *PackHeaderMismatch:
			index, readAll = true, true
		case *DamagedPack:
			damaged = append(damaged, f.Pack)
			lost = lost || len(f.Snapshots) > 0
		case *DamagedBlob:
			lost, lostInPack = true, true
		case *DamagedTree:
			index, lost = true, true
		case *DamagedLog:
			lost = true
		case *MissingBlob:
			// Rebuilding the index helps only when a pack still holds it.
			index = index || !f.InPack.IsNull()
			lost = lost || f.InPack.IsNull()
		case *MissingBase:
			index = index || !f.BaseInPack.IsNull()
			lost = lost || f.BaseInPack.IsNull()
		case *DamagedSnapshot:
			snapshots = append(snapshots, f.Snapshot)
			if f.Protected {
				protectedSnapshots = append(protectedSnapshots, f.Snapshot)
			}
		case *MisnamedSnapshot:
			misnamed = append(misnamed, f.File)
		case *MisnamedFile:
			misnamedOther = append(misnamedOther, string(f.Type)+"/"+f.File.Short())
		case *DamagedConfig:
			config = true
			configNoCopy = f.CopyFrom == ""
		case *NoConfigCopy:
			noConfigCopy = true
		case *RetentionsEnding:
			retentions = true
		case *DamagedKeyFile:
			keys = append(keys, f)
		case *DamagedPolicyFile:
			policy = true
		case *DamagedProtectFile:
			protect = true
		case *SingleCopyTrees:
			copies = true
		case *MissingFile:
			if r.misnamedAs(f.Kind, f.ID) {
				continue // its content is stored under another name: repair snapshots gives it its name back
			}
			if f.Kind == backend.IndexFile {
				index = true // repair index rebuilds what it listed and records it as replaced
				continue
			}
			missingFiles = append(missingFiles, f)
		case *DamagedJournalFile:
			journal = append(journal, "journal file "+f.Name[:min(16, len(f.Name))]+" is damaged")
		case *MissingJournalFiles:
			journal = append(journal, "journal files are missing")
		case *NoJournal:
			journal = append(journal, "the repository keeps no journal yet")
		case *DamagedAuditRecord, *MissingAuditRecord, *MissingAuditRecords, *MissingSeenAuditRecord:
			auditTrail = true
		case *UnrecordedSnapshot:
			unrecorded = append(unrecorded, f.Snapshot)
		}
	}

	var steps []Step
	switch {
	case config && configNoCopy:
		steps = append(steps, Step{Command: "strata repair config --new-polynomial",
			Why: "the file config is damaged or missing and no key file holds a copy: restore the file from a copy of the " +
				"repository if there is one; otherwise this writes a new config (default settings, new chunker polynomial), " +
				"so that backups work again, sharing no chunks with earlier ones"})
	case config:
		steps = append(steps, Step{Command: "strata repair config",
			Why: "the file config is damaged or missing: this rewrites it from the copy in a key file"})
	}
	passwd := false
	for _, k := range keys {
		if k.InUse {
			passwd = true
			steps = append(steps, Step{Command: "strata key passwd",
				Why: "key file keys/" + k.Name + " is damaged, and it is the one this password opened the repository with: " +
					"this writes the key again as a new key file (the new password may be the old one) and removes the damaged one"})
			continue
		}
		steps = append(steps, Step{Command: "strata key remove " + keyArg(k.Name),
			Why: "key file keys/" + k.Name + " is damaged, so its password no longer opens the repository through it: if that password " +
				"is still needed, restore the file from a copy of the repository instead; otherwise remove it " +
				"(and `strata key add` a new password if you want one)"})
	}
	if noConfigCopy && !passwd {
		steps = append(steps, Step{Command: "strata key passwd",
			Why: "no key file holds a copy of the config: this writes the key file again with one (the new password may be the old one), " +
				"so that a damaged config no longer makes the repository unusable; `strata key add` gives a key a copy too"})
	}
	if retentions {
		steps = append(steps, Step{Command: "strata maintenance extend-locks",
			Why: "the object lock of files the snapshots need runs out soon: this renews the retention of every one of them " +
				"to the repository's lock days from today (run it on a schedule, daily or weekly, so that it never runs out)"})
	}
	if policy {
		steps = append(steps, Step{Command: "strata policy reset",
			Why: "a policy file is damaged: this removes every policy file; then set the rules again with `strata policy set`"})
	}
	if protect {
		steps = append(steps, Step{Command: "strata unprotect --damaged",
			Why: "a protect file is damaged (which snapshot it protects is unknown): restore it from a copy of the repository, " +
				"or remove it with this and protect the snapshots that need it again (`strata protect`)"})
	}
	if len(damaged) > 0 {
		steps = append(steps, Step{
			Why: fmt.Sprintf("%s %s damaged: if another copy of the repository has %s, copy %s over before anything else",
				packList(damaged), plural(len(damaged), "is", "are"), plural(len(damaged), "it", "them"),
				plural(len(damaged), "that file", "those files")),
		})
	}
	if index {
		step := Step{Command: "strata repair index",
			Why: "rebuilds the index from the pack headers: entries of damaged or deleted index files come back, entries of lost packs go"}
		if readAll {
			step.Command += " --read-all-packs"
			step.Why = "rebuilds the index from every pack header, which is right where the index disagrees with it"
		}
		steps = append(steps, step)
	}
	if len(damaged) > 0 {
		cmd := "strata repair packs"
		for _, id := range damaged {
			cmd += " " + id.Short()
		}
		steps = append(steps, Step{Command: cmd,
			Why: "copies every blob of the damaged packs that still verifies into new packs, drops the damaged packs from the index and removes them, names the blobs that are lost, and writes the tree copies that are missing"})
	} else if copies {
		steps = append(steps, Step{Command: "strata repair packs",
			Why: "writes a second copy of every tree blob that has one intact copy, so that no single damaged pack can take a snapshot's structure with it"})
	}
	if len(misnamed) == 0 && len(misnamedOther) > 0 {
		steps = append(steps, Step{Command: "strata repair snapshots",
			Why: fmt.Sprintf("%s stored under the wrong name, content intact: this stores each under its own name "+
				"and removes the misnamed file; nothing is lost", strings.Join(misnamedOther, ", "))})
	}
	if len(misnamed) > 0 {
		steps = append(steps, Step{Command: "strata repair snapshots",
			Why: fmt.Sprintf("snapshot file%s %s %s stored under the wrong name, %s content intact: this stores each under "+
				"its own name (its snapshot ID) and removes the misnamed file; nothing is lost",
				plural(len(misnamed), "", "s"), idList(misnamed), plural(len(misnamed), "is", "are"), plural(len(misnamed), "its", "their"))})
	}
	for _, id := range protectedSnapshots {
		steps = append(steps, Step{Command: "strata unprotect " + id.Short(),
			Why: fmt.Sprintf("snapshot file %s cannot be read and is protected: if another copy of the repository has it, "+
				"copy it over instead; otherwise release it, so that repair snapshots --forget may remove it", id.Short())})
	}
	if lost {
		for _, id := range r.protectedLosing() {
			steps = append(steps, Step{Command: "strata unprotect " + id.Short(),
				Why: fmt.Sprintf("snapshot %s loses data and is protected, so repair snapshots --forget keeps its original beside "+
					"the repaired snapshot: release it, so that the original goes (protect the repaired snapshot if it must be kept)", id.Short())})
		}
		cmd := "strata repair snapshots --forget"
		if lostInPack {
			cmd = "strata repair snapshots --read-data --forget"
		}
		steps = append(steps,
			Step{Command: cmd,
				Why: "data is lost: replaces each snapshot that needs it by a repaired one without it (each node says what it lost), and removes the originals"},
			Step{Command: "strata backup",
				Why: "take a fresh backup of the affected sources, so that their current state is complete again"})
	}
	if len(snapshots) > 0 {
		cmd := "strata repair snapshots --forget"
		if lost {
			cmd = "" // the repair snapshots step above removes them too
		}
		steps = append(steps, Step{Command: cmd,
			Why: fmt.Sprintf("snapshot file%s %s cannot be read: if another copy of the repository has %s, copy %s over instead; "+
				"otherwise strata repair snapshots --forget removes %s (nothing of %s can be restored)",
				plural(len(snapshots), "", "s"), idList(snapshots),
				plural(len(snapshots), "it", "them"), plural(len(snapshots), "it", "them"),
				plural(len(snapshots), "it", "them"), plural(len(snapshots), "it", "them")),
		})
	}
	if auditTrail {
		steps = append(steps, Step{Why: "audit records are damaged or missing, and strata never removes or changes them: " +
			"someone or something else did. Find out who (the storage's own access logs), and copy the records named above " +
			"back from a copy of the repository if one has them; check reports them until they are back"})
	}
	if len(unrecorded) > 0 {
		steps = append(steps, Step{Why: fmt.Sprintf("no audit record names snapshot%s %s: the newest records of the audit trail "+
			"were probably removed, and strata never removes them. Find out who (the storage's own access logs), and copy the "+
			"records back from a copy of the repository if one has them; if the command that saved %s warned "+
			"that its audit record could not be written, that is the record missing. check reports %s until a record names %s (a command that changes %s, such as strata tag, "+
			"writes one)",
			plural(len(unrecorded), "", "s"), idList(unrecorded), plural(len(unrecorded), "it", "them"),
			plural(len(unrecorded), "it", "them"), plural(len(unrecorded), "it", "them"), plural(len(unrecorded), "it", "them"))})
	}
	if len(missingFiles) > 0 || len(journal) > 0 {
		steps = append(steps, journalStep(missingFiles, journal))
	}
	if len(steps) == 0 && len(r.UnreferencedPacks) > 0 {
		steps = append(steps, Step{Command: "strata prune",
			Why: fmt.Sprintf("removes the %d unreferenced pack%s (a notice: nothing is damaged)", len(r.UnreferencedPacks), plural(len(r.UnreferencedPacks), "", "s"))})
	}
	return steps
}

func packList(ids []pack.ID) string {
	return plural(len(ids), "pack ", "packs ") + idList(ids)
}

// protectedLosing returns the protected snapshots that lose data, by the
// findings that name the snapshots losing data through them.
func (r *Report) protectedLosing() []pack.ID {
	protected := map[pack.ID]bool{}
	for _, id := range r.Protected {
		protected[id] = true
	}
	seen := map[pack.ID]bool{}
	var ids []pack.ID
	for _, f := range r.Findings {
		var losing []pack.ID
		switch f := f.(type) {
		case *MissingPack:
			losing = f.Snapshots
		case *PackHeaderMismatch:
			losing = f.Snapshots
		case *DamagedPack:
			losing = f.Snapshots
		case *MissingBlob:
			losing = f.Snapshots
		case *MissingBase:
			losing = f.Snapshots
		case *DamagedBlob:
			losing = f.Snapshots
		case *DamagedTree:
			losing = f.Snapshots
		case *DamagedLog:
			losing = f.Snapshots
		}
		for _, id := range losing {
			if protected[id] && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// journalStep is the advice for files the journal records that are gone,
// and for a damaged journal: restore what a copy of the repository holds,
// then record the rest as lost with repair journal, so that check is
// clean again (docs/design.md, "The journal").
func journalStep(missing []*MissingFile, journal []string) Step {
	var why []string
	for _, f := range missing {
		h := handle(f.Kind, f.ID)
		switch f.Kind {
		case backend.SnapshotFile:
			why = append(why, fmt.Sprintf("snapshot file %s was deleted: restore it from another copy of the repository if there is one "+
				"(repair snapshots --forget cannot bring it back: the file is the snapshot's only record); otherwise this records "+
				"snapshot %s as lost", h, f.ID.Short()))
		case backend.KeyFile:
			why = append(why, fmt.Sprintf("key file %s was deleted: if its password is still needed, restore the file from a copy of "+
				"the repository; otherwise this records it as gone (`strata key add` gives a new password)", h))
		case backend.PolicyFile:
			why = append(why, fmt.Sprintf("policy file %s was deleted: restore it from a copy of the repository, or record it as gone "+
				"with this and set the rules again with `strata policy set`", h))
		case backend.ProtectFile:
			what := "the snapshot it protected"
			if len(f.Snapshots) > 0 {
				what = "snapshot " + f.Snapshots[0].Short()
			}
			why = append(why, fmt.Sprintf("protect file %s was deleted: restore it from a copy of the repository, or record it as gone "+
				"with this and protect %s again with `strata protect`", h, what))
		}
	}
	if len(journal) > 0 {
		why = append(why, strings.Join(journal, "; ")+": this writes the journal anew from the files stored now "+
			"(restore any file check reports missing first: after this it is recorded as lost)")
	}
	return Step{Command: "strata repair journal", Why: strings.Join(why, "; ")}
}

// misnamedAs tells whether a finding says that the content of the file
// kind/id is stored, intact, under another name.
func (r *Report) misnamedAs(kind backend.FileType, id pack.ID) bool {
	for _, f := range r.Findings {
		switch f := f.(type) {
		case *MisnamedFile:
			if f.Type == kind && f.ID == id {
				return true
			}
		case *MisnamedSnapshot:
			if kind == backend.SnapshotFile && f.Snapshot == id {
				return true
			}
		}
	}
	return false
}

// keyArg is how `strata key remove` names the key file name: by the first
// 8 hex digits of its ID, or whole when the name is not an ID (a file
// strata did not name, such as a copy under another name), since a short
// prefix of such a name may also begin an ID.
func keyArg(name string) string {
	if _, err := pack.ParseID(name); err != nil {
		return name
	}
	return name[:8]
}
