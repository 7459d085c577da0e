// Package benchrepo opens an existing repository for the programs that
// measure what one stores (internal/logmeasure, internal/firstsnapmeasure,
// internal/benchmount): by its URL or folder, as strata takes it, with its
// index loaded and its snapshots in time order.
package benchrepo
