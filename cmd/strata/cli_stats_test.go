package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/index"
	"strata/internal/gendata"
	"strata/pack"
	"strata/repo"
)

// rowsData returns about size bytes of table rows of the given version:
// data no other version shares.
func rowsData(size, version int) []byte {
	var b bytes.Buffer
	for id := int64(1); b.Len() < size; id++ {
		gendata.Row(&b, id, version)
	}
	return b.Bytes()
}

func statsAs[T any](t *testing.T, c *tcli, args ...string) T {
	t.Helper()
	var v T
	out := c.ok(append([]string{"stats", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stats --json %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// tiersByName returns the tiers of `stats --by tier --json` by name, and
// fails unless stored and unique bytes split into only and shared.
func tiersByName(t *testing.T, st tierStatsJSON) map[string]tierJSON {
	t.Helper()
	tiers := map[string]tierJSON{}
	for _, tier := range st.Tiers {
		tiers[tier.Tier] = tier
		if tier.OnlyStoredBytes+tier.SharedStoredBytes != tier.StoredBytes || tier.OnlyUniqueBytes+tier.SharedUniqueBytes != tier.UniqueBytes {
			t.Errorf("tier %q: only + shared != referenced: %+v", tier.Tier, tier)
		}
	}
	return tiers
}

// TestStatsByTierAndGrowth backs up one folder as two hourly snapshots and
// then, with a file more, as a daily one, and a stream without a tier.
func TestStatsByTierAndGrowth(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	shared, dailyOnly, untiered := sampleData(t), rowsData(300<<10, 7), rowsData(200<<10, 9)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("shared.tsv", shared)
	c.ok("backup", "--tier", "hourly", "--time", "2025-06-17 10:00:00", src)
	c.ok("backup", "--tier", "hourly", "--time", "2025-06-17 11:00:00", src)
	writeFile("daily.tsv", dailyOnly)
	c.ok("backup", "--tier", "daily", "--time", "2025-06-17 12:00:00", src)
	c.backupStdin(untiered, "other.tsv", "--time", "2025-06-17 13:00:00")

	st := statsAs[tierStatsJSON](t, c, "--by", "tier")
	tiers := tiersByName(t, st)
	if len(st.Tiers) != 3 || st.Tiers[0].Tier != "daily" || st.Tiers[1].Tier != "hourly" || st.Tiers[2].Tier != "" {
		t.Fatalf("tiers = %+v, want daily, hourly and the untiered last", st.Tiers)
	}
	hourly, daily, none := tiers["hourly"], tiers["daily"], tiers[""]
	if hourly.Snapshots != 2 || daily.Snapshots != 1 || none.Snapshots != 1 || st.Snapshots != 4 {
		t.Errorf("snapshot counts: %+v", st)
	}
	// Only shared.tsv is in two tiers: every tree differs.
	if hourly.SharedUniqueBytes != uint64(len(shared)) || daily.SharedUniqueBytes != uint64(len(shared)) {
		t.Errorf("shared unique bytes: hourly %d, daily %d, want %d, the bytes of shared.tsv",
			hourly.SharedUniqueBytes, daily.SharedUniqueBytes, len(shared))
	}
	if hourly.SharedStoredBytes != daily.SharedStoredBytes || none.SharedStoredBytes != 0 {
		t.Errorf("shared stored bytes: hourly %d, daily %d, untiered %d; want the first two equal, the last 0",
			hourly.SharedStoredBytes, daily.SharedStoredBytes, none.SharedStoredBytes)
	}
	// What one tier holds alone: daily.tsv, the stream, and trees.
	const treeSlack = 8 << 10
	for _, tt := range []struct {
		tier tierJSON
		data int
	}{{daily, len(dailyOnly)}, {none, len(untiered)}, {hourly, 0}} {
		if tt.tier.OnlyUniqueBytes < uint64(tt.data) || tt.tier.OnlyUniqueBytes > uint64(tt.data+treeSlack) || tt.tier.OnlyStoredBytes == 0 {
			t.Errorf("tier %q: only_unique_bytes %d, want its %d bytes of data plus its trees", tt.tier.Tier, tt.tier.OnlyUniqueBytes, tt.data)
		}
	}
	// The shared blobs, counted once, and what each tier holds alone make
	// up what all snapshots need.
	if sum := daily.OnlyStoredBytes + hourly.OnlyStoredBytes + none.OnlyStoredBytes + hourly.SharedStoredBytes; sum != st.StoredBytes {
		t.Errorf("only bytes plus shared bytes = %d, all snapshots need %d", sum, st.StoredBytes)
	}
	if sum := daily.OnlyUniqueBytes + hourly.OnlyUniqueBytes + none.OnlyUniqueBytes + hourly.SharedUniqueBytes; sum != st.UniqueBytes {
		t.Errorf("only unique bytes plus shared = %d, all snapshots need %d", sum, st.UniqueBytes)
	}
	plain := statsAs[statsJSON](t, c)
	if plain.StoredBytes != st.StoredBytes || plain.UniqueBytes != st.UniqueBytes || plain.Blobs != st.Blobs || plain.RepositoryBytes != st.RepositoryBytes {
		t.Errorf("stats --by tier totals %+v differ from stats %+v", st, plain)
	}

	gr := statsAs[growthJSON](t, c, "--growth")
	if len(gr.Snapshots) != 4 {
		t.Fatalf("growth lists %d snapshots, want 4", len(gr.Snapshots))
	}
	var total uint64
	for i, s := range gr.Snapshots {
		total += s.AddedBytes
		if s.TotalBytes != total {
			t.Errorf("snapshot %d: total_bytes %d, want the running total %d", i, s.TotalBytes, total)
		}
	}
	if total != st.StoredBytes || gr.StoredBytes != st.StoredBytes {
		t.Errorf("growth adds up to %d (stored_bytes %d); all snapshots need %d", total, gr.StoredBytes, st.StoredBytes)
	}
	// The second hourly snapshot has the same data as the first; only the
	// trees of the folders above src (their times) may differ.
	if gr.Snapshots[1].AddedBytes > treeSlack || gr.Snapshots[1].Tier != "hourly" || gr.Snapshots[2].Tier != "daily" {
		t.Errorf("growth: %+v; want the 11:00 hourly snapshot to add no more than trees", gr.Snapshots)
	}
	if gr.Snapshots[2].AddedBytes < daily.OnlyStoredBytes || gr.Snapshots[3].AddedBytes != none.OnlyStoredBytes {
		t.Errorf("growth: %+v; the daily snapshot must add at least its only bytes %d, the stream exactly its %d",
			gr.Snapshots, daily.OnlyStoredBytes, none.OnlyStoredBytes)
	}
	if gr.RepositoryBytes != plain.RepositoryBytes || gr.UnusedBytes != 0 || gr.PackOverheadBytes <= 0 || gr.MetadataBytes == 0 ||
		gr.StoredBytes+gr.MetadataBytes+uint64(gr.PackOverheadBytes)+gr.UnusedBytes != gr.RepositoryBytes {
		t.Errorf("growth: the difference to the repository size does not add up: %+v", gr)
	}

	// The text forms.
	out := c.ok("stats", "--by", "tier")
	for _, want := range []string{"Tier", "Only", "Shared", "hourly", "daily", "(none)", "All snapshots (4 snapshots) need", "Repository size:"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats --by tier lacks %q:\n%s", want, out)
		}
	}
	out = c.ok("stats", "--growth")
	for _, want := range []string{"2025-06-17 10:00:00", "2025-06-17 13:00:00", "Added", "Total", "All snapshots (4 snapshots) need", "pack headers", "prune"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats --growth lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{
		{"stats", "--by", "host"},
		{"stats", "--by", "tier", "--growth"},
		{"stats", "--growth", "latest"},
	} {
		if _, errOut := c.code(exitError, args...); errOut == "" {
			t.Errorf("strata %s: no error message", strings.Join(args, " "))
		}
	}
}

// TestStatsByTierDeltaBase checks that a tier whose delta blobs have
// their bases in another tier's snapshot shares those bases.
func TestStatsByTierDeltaBase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	for i := 0; i < 2000; i++ {
		if _, err := db.Exec(`INSERT INTO orders VALUES (?, 1, ?)`, 100+i, float64(i)/3); err != nil {
			t.Fatal(err)
		}
	}
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn, "--tier", "daily", "--time", "2025-06-17 00:00:00")
	// Every row changes, so the hourly backup writes a new base (not a
	// change log: docs/design.md, "Table change logs").
	if _, err := db.Exec(`UPDATE orders SET total = total + 1`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 01:00:00")

	// The hourly snapshot's changed orders chunks are deltas on the daily one's.
	raw := map[pack.ID]uint32{}
	bases := map[pack.ID]bool{}
	for _, name := range c.files("index") {
		var f index.File
		c.catJSON(&f, "index", name)
		for _, p := range f.Packs {
			for _, b := range p.Blobs {
				raw[b.ID] = b.RawLength
				if b.Compression == pack.Delta {
					bases[b.Base] = true
				}
			}
		}
	}
	if len(bases) == 0 {
		t.Fatal("the second backup stored no delta blob")
	}
	// Every daily chunk that is the base of an hourly delta counts as
	// shared (which chunks of the daily one are bases follows the
	// repository's random chunker polynomial).
	var baseBytes uint64
	for id := range bases {
		baseBytes += uint64(raw[id])
	}
	tiers := tiersByName(t, statsAs[tierStatsJSON](t, c, "--by", "tier"))
	daily := tiers["daily"]
	if daily.SharedUniqueBytes < baseBytes {
		t.Errorf("daily: only_unique_bytes %d, shared_unique_bytes %d; its chunks of %d bytes are bases of hourly deltas and must count as shared",
			daily.OnlyUniqueBytes, daily.SharedUniqueBytes, baseBytes)
	}
	if st := statsAs[statsJSON](t, c); st.StoredBytes != tiers["daily"].StoredBytes+tiers["hourly"].OnlyStoredBytes {
		t.Errorf("stats needs %d stored bytes; the daily tier %d and the hourly tier alone %d", st.StoredBytes, daily.StoredBytes, tiers["hourly"].OnlyStoredBytes)
	}
}

// TestStatsRatiosWithDeltas: a snapshot whose changed chunk is stored as
// a delta needs that delta's base, which its files do not name. The base
// counts as stored data, never as unique data: deduplication can only
// shrink what a restore writes, so the dedup ratio is at least 1.
func TestStatsRatiosWithDeltas(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	for i := 0; i < 2000; i++ {
		if _, err := db.Exec(`INSERT INTO orders VALUES (?, 1, ?)`, 100+i, float64(i)/3); err != nil {
			t.Fatal(err)
		}
	}
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn, "--time", "2025-06-17 00:00:00")
	if _, err := db.Exec(`UPDATE orders SET total = 1 WHERE id = 1000`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", dsn, "--time", "2025-06-17 01:00:00")
	for _, args := range [][]string{{"latest"}, nil} {
		st := statsAs[statsJSON](t, c, args...)
		if st.UniqueBytes == 0 || st.UniqueBytes > st.RawBytes || st.DedupRatio < 1 {
			t.Errorf("stats %v: unique_bytes %d of raw_bytes %d, dedup_ratio %.2f: want unique within raw, ratio at least 1",
				args, st.UniqueBytes, st.RawBytes, st.DedupRatio)
		}
		if st.CompressionRatio < 1 || st.TotalRatio < 1 {
			t.Errorf("stats %v: compression_ratio %.2f, total_ratio %.2f: table rows compress", args, st.CompressionRatio, st.TotalRatio)
		}
	}
	out := c.ok("stats", "latest")
	if strings.Contains(out, "Dedup ratio:        0.") {
		t.Errorf("stats latest:\n%s", out)
	}
}

// treeCounter counts the trees stats loads.
type treeCounter struct {
	*repo.Repository
	loads map[pack.ID]int
}

func (tc *treeCounter) LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error) {
	tc.loads[id]++
	return tc.Repository.LoadTree(ctx, id)
}

// TestStatsWalksTreesOnce: snapshots that share trees are walked once per
// tier, not once per snapshot.
func TestStatsWalksTreesOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	for i, name := range []string{"a.tsv", "sub/b.tsv", "sub/deeper/c.tsv"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, rowsData(4<<10, i), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tier := range []string{"hourly", "hourly", "hourly", "daily"} {
		c.ok("backup", "--tier", tier, src)
	}
	r := c.openAPI(repo.Options{})
	sns, err := r.Snapshots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tc := &treeCounter{Repository: r, loads: map[pack.ID]int{}}
	if _, err := computeStats(context.Background(), tc, sns); err != nil {
		t.Fatal(err)
	}
	for id, n := range tc.loads {
		if n != 1 {
			t.Errorf("stats loaded tree %s %d times, want once", id.Short(), n)
		}
	}
	tc.loads = map[pack.ID]int{}
	if _, err := computeTierStats(context.Background(), tc, sns); err != nil {
		t.Fatal(err)
	}
	for id, n := range tc.loads {
		if n > 2 {
			t.Errorf("stats --by tier loaded tree %s %d times, want at most once per tier", id.Short(), n)
		}
	}
}

// TestStatsTooManyTiers fails before reading anything.
func TestStatsTooManyTiers(t *testing.T) {
	t.Parallel()
	var sns []*repo.Snapshot
	for i := 0; i <= maxGroups; i++ {
		sns = append(sns, &repo.Snapshot{Tier: strings.Repeat("t", i)})
	}
	_, err := computeTierStats(context.Background(), nil, sns)
	if err == nil || !strings.Contains(err.Error(), "65 tiers") {
		t.Errorf("65 tiers: %v", err)
	}
}
