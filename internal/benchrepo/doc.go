// Package benchrepo holds what the programs that measure repositories
// share: opening an existing repository by its URL or folder, as strata
// takes it, with its index loaded and its snapshots in time order
// (internal/logmeasure, internal/firstsnapmeasure, internal/benchmount),
// and a repository's size on disk, strata's or restic's (the bench
// programs).
package benchrepo
