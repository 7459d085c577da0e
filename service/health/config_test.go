package health

import (
	"testing"
	"time"

	"strata/service/config"
)

func TestFromConfig(t *testing.T) {
	c, err := config.Parse([]byte(`version: 1
timezone: Europe/Berlin
repository: {url: /srv/repo, password_env: PW}
sources:
  - {name: customers, type: postgres, dsn: "postgres://backup@db1.internal:5432/customers"}
  - {name: etc, type: path, paths: [/etc]}
  - {name: dump, type: command, command: "pg_dumpall"}
jobs:
  - {name: customers-hourly, source: customers, tier: hourly, schedule: "15 * * * *"}
  - {name: customers-daily, source: customers, tier: daily, schedule: "30 1 * * *"}
  - {name: customers-weekly, source: customers, tier: weekly, schedule: "45 2 * * sun", max_age: 200h}
  - {name: etc-daily, source: etc, tier: daily, schedule: "@daily"}
  - {name: dump-6h, source: dump, tier: sixhourly, schedule: "0 */6 * * *"}
retention:
  keep_tiers: {hourly: 24, daily: 30}
check: {schedule: "0 6 * * *"}
drill: {schedule: "0 7 * * sat", max_age: 192h}
health: {quota_bytes: 500GiB}
`), "strata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	opts, gopts, err := FromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []Job{
		{Name: "customers-hourly", Source: "postgres://backup@db1.internal:5432/customers", Tier: "hourly", Interval: time.Hour},
		{Name: "customers-daily", Source: "postgres://backup@db1.internal:5432/customers", Tier: "daily", Interval: 24 * time.Hour},
		{Name: "customers-weekly", Source: "postgres://backup@db1.internal:5432/customers", Tier: "weekly", Interval: 7 * 24 * time.Hour, MaxAge: 200 * time.Hour},
		{Name: "etc-daily", Source: "files:/etc", Tier: "daily", Interval: 24 * time.Hour},
		{Name: "dump-6h", Source: "stdin:dump", Tier: "sixhourly", Interval: 6 * time.Hour},
	}
	if len(opts.Jobs) != len(want) {
		t.Fatalf("jobs %+v", opts.Jobs)
	}
	for i, w := range want {
		g := opts.Jobs[i]
		// The source key is the engine's spelling of the DSN.
		if g.Name != w.Name || g.Tier != w.Tier || g.Interval != w.Interval || g.MaxAge != w.MaxAge || g.Source == "" {
			t.Errorf("job %d: %+v, want %+v", i, g, w)
		}
	}
	if opts.Jobs[3].Source != "files:/etc" || opts.Jobs[4].Source != "stdin:dump" {
		t.Errorf("sources %q %q", opts.Jobs[3].Source, opts.Jobs[4].Source)
	}
	if opts.CheckMaxAge != 26*time.Hour || opts.DrillMaxAge != 192*time.Hour || len(opts.DrillSources) != 1 {
		t.Errorf("check %v drill %v %v", opts.CheckMaxAge, opts.DrillMaxAge, opts.DrillSources)
	}
	if opts.StorageWarnPercent != 80 || opts.StorageCriticalPercent != 90 || gopts.QuotaBytes != 500<<30 {
		t.Errorf("storage %v %v %v", opts.StorageWarnPercent, opts.StorageCriticalPercent, gopts.QuotaBytes)
	}
	if gopts.Policy == nil || gopts.Policy.Tiers["daily"] != 30 || gopts.Location == nil || gopts.Location.String() != "Europe/Berlin" {
		t.Errorf("policy %+v %v", gopts.Policy, gopts.Location)
	}
	// The 6-hourly series: its limit is its schedule's interval plus 2h.
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rep := Evaluate(Inputs{Snapshots: []Snapshot{{ID: "a", Time: now.Add(-9 * time.Hour), Source: "stdin:dump", Tier: "sixhourly"}}},
		Options{Now: now, Jobs: opts.Jobs[4:]})
	if rep.Status != Critical || rep.Jobs[0].MaxAgeSeconds != 8*3600 {
		t.Fatalf("%v %+v", rep.Status, rep.Jobs)
	}
}
