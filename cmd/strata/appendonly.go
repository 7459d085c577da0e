package main

import "strata/repo/backend"

// removesFrom returns the folders the command named removes files from
// when it runs for real (not a dry run: those take a shared lock and
// remove nothing), or nil for a command that only adds files. Such
// commands refuse up front on storage whose credentials may not delete
// there (an append-only credential: README, "Append-only"), before they
// change anything. Every command removes its own lock file, which
// append-only credentials must be allowed to do (as restic's rest-server
// allows in its append-only mode); unlock removes only lock files.
func removesFrom(command string) []backend.FileType {
	switch command {
	case "forget", "tag", "repair snapshots":
		return []backend.FileType{backend.SnapshotFile}
	case "prune":
		return []backend.FileType{backend.PackFile, backend.IndexFile}
	case "key remove", "key passwd":
		return []backend.FileType{backend.KeyFile}
	case "unprotect":
		return []backend.FileType{backend.ProtectFile}
	case "policy set", "policy reset":
		return []backend.FileType{backend.PolicyFile}
	case "repair index":
		return []backend.FileType{backend.IndexFile}
	case "repair packs":
		return []backend.FileType{backend.PackFile}
	case "repair config":
		return []backend.FileType{backend.ConfigFile}
	case "repair journal":
		return []backend.FileType{backend.JournalFile}
	}
	return nil
}
