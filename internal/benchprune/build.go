package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strata/dbexport"
	"strata/internal/benchrepo"
	"strata/repo"
	"strata/repo/backend/local"
)

// hourRecord is what the build knows of one hour's export; the check
// after prune compares restored tables with SHA256.
type hourRecord struct {
	Hour     int       `json:"hour"`
	Time     time.Time `json:"time"`
	Snapshot string    `json:"snapshot"`
	Rows     int       `json:"rows"`
	Bytes    int64     `json:"bytes"`
	SHA256   string    `json:"sha256"`
	Updates  int       `json:"updates"`
	Appends  int       `json:"appends"`
	Deletes  int       `json:"deletes"`
	Added    int64     `json:"bytes_added"` // the backup's summary
}

// buildRecord is written beside a finished repository: the flags it was
// built with, how long it took and every hour. A repository without one
// is unfinished.
type buildRecord struct {
	Hours   int          `json:"hours"`
	Size    int64        `json:"size"`
	Rate    float64      `json:"rate"`
	Seconds float64      `json:"seconds"`
	Records []hourRecord `json:"records"`
}

func (b *buildRecord) matches(c config) bool {
	return b.Hours == c.hours && b.Size == c.size && b.Rate == c.rate && len(b.Records) == c.hours
}

// Source, host and tier of every snapshot, as `strata backup --db
// sqlite:///… --tier hourly` would record them.
const (
	benchSource = "sqlite:///bench/customers.db"
	benchHost   = "benchprune"
	benchTier   = "hourly"
)

// build backs up hours hours of the churning table into the repository
// in dir/repo (made by `strata init`), each with the previous snapshot as
// parent, so changed chunks are stored as deltas against their
// predecessors as real table backups store them; then it writes
// dir/built.json. It runs in its own process (-build).
func build(ctx context.Context, c config, dir string) error {
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		return err
	}
	repoDir := filepath.Join(dir, "repo")
	be, err := local.Open(repoDir)
	if err != nil {
		return err
	}
	r, err := repo.Open(ctx, be, strings.TrimRight(string(pw), "\n"), repo.Options{})
	if err != nil {
		return err
	}
	lock, err := r.Lock(ctx, false, "benchprune build")
	if err != nil {
		return err
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	if err := r.LoadIndex(ctx); err != nil {
		return err
	}

	began := time.Now()
	t := newTable(c.size)
	rec := buildRecord{Hours: c.hours, Size: c.size, Rate: c.rate}
	fmt.Printf("  table at hour 0: %.1f MB, %d rows\n", mb(int64(len(t.buf))), len(t.ids))
	var parent *repo.Snapshot
	for h := range c.hours {
		hr := hourRecord{Hour: h, Time: hourTime(h)}
		if h > 0 {
			hr.Updates, hr.Appends, hr.Deletes = t.churn(h, c.rate)
		}
		sum := sha256.Sum256(t.buf)
		hr.SHA256, hr.Rows, hr.Bytes = hex.EncodeToString(sum[:]), len(t.ids), int64(len(t.buf))
		sn, err := dbexport.Backup(ctx, r, source{t}, dbexport.BackupOptions{
			Source: benchSource, Host: benchHost, Tier: benchTier, Time: hr.Time,
			Parent: parent, Program: "strata benchprune",
		})
		if err != nil {
			return fmt.Errorf("hour %d: %w", h, err)
		}
		parent = sn
		hr.Snapshot, hr.Added = sn.ID.String(), int64(sn.Summary.BytesAdded)
		rec.Records = append(rec.Records, hr)
		if h%48 == 47 || h == c.hours-1 {
			size, err := benchrepo.Size(repoDir)
			if err != nil {
				return err
			}
			fmt.Printf("  hour %3d: table %.1f MB, %d rows; repository %.1f MB; %.0f s\n",
				h, mb(hr.Bytes), hr.Rows, mb(size), time.Since(began).Seconds())
		}
	}
	rec.Seconds = time.Since(began).Seconds()
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "built.json"), data, 0o600)
}

// loadBuild reads dir/built.json; nil when there is none.
func loadBuild(dir string) (*buildRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, "built.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var b buildRecord
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "built.json"), err)
	}
	return &b, nil
}
