package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"strata/dbexport"
	"strata/internal/benchrepo"
	"strata/repo"
	"strata/repo/backend/local"
	"strata/repo/crypto"
)

// keptSeries is the bound on re-encoding against kept bases: the kept
// hours backed up on their own, in order, each with the previous kept
// one as parent, so strata's own delta rules (depth limit, restarts at
// the chain's root) decide what is stored. A prune that re-encoded every
// chain against kept bases could at best reach this size.
type keptSeries struct {
	Snapshots int
	Bytes     int64   // the repository folder
	Seconds   float64 // the backups alone, table generation not counted
}

// backupKept regenerates the table hour by hour (checking each kept
// hour's export against the build's SHA-256, so the generator is shown to
// be deterministic) and backs up the kept hours into a new repository in
// dir.
func backupKept(ctx context.Context, c config, b *buildRecord, kept []snapshotInfo, dir string) (keptSeries, error) {
	var ks keptSeries
	isKept := map[string]bool{}
	for _, sn := range kept {
		isKept[sn.ID] = true
	}
	cfg, err := repo.DefaultConfig()
	if err != nil {
		return ks, err
	}
	repoDir := filepath.Join(dir, "kept-only")
	be, err := local.Create(repoDir)
	if err != nil {
		return ks, err
	}
	r, err := repo.Init(ctx, be, "bench", cfg, repo.Options{KDF: crypto.CheapKDFParams()})
	if err != nil {
		return ks, err
	}
	t := newTable(c.size)
	var parent *repo.Snapshot
	for _, hr := range b.Records {
		if hr.Hour > 0 {
			t.churn(hr.Hour, c.rate)
		}
		if !isKept[hr.Snapshot] {
			continue
		}
		if sum := sha256.Sum256(t.buf); hex.EncodeToString(sum[:]) != hr.SHA256 {
			return ks, fmt.Errorf("hour %d generated again differs from the build's export: the generator is not deterministic", hr.Hour)
		}
		began := time.Now()
		sn, err := dbexport.Backup(ctx, r, source{t}, dbexport.BackupOptions{
			Source: benchSource, Host: benchHost, Tier: benchTier, Time: hr.Time,
			Parent: parent, Program: "strata benchprune",
		})
		if err != nil {
			return ks, fmt.Errorf("kept-only series, hour %d: %w", hr.Hour, err)
		}
		ks.Seconds += time.Since(began).Seconds()
		ks.Snapshots++
		parent = sn
	}
	ks.Bytes, err = benchrepo.Size(repoDir)
	return ks, err
}
