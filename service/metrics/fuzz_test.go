package metrics_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/service/metrics"
)

// FuzzMergeText feeds MergeText the file a user points --metrics-file at:
// whatever it holds, the merge must not panic, and what it writes must
// parse.
func FuzzMergeText(f *testing.F) {
	f.Add([]byte("# HELP strata_check_success x\n# TYPE strata_check_success gauge\nstrata_check_success 1\n"))
	f.Add([]byte("strata_backup_success{job=\"a\",tier=\"daily\"} 0\nstrata_snapshots{tier=\"x\"} 3\n"))
	f.Add([]byte("# TYPE strata_snapshots counter\nstrata_snapshots 1 1700000000000\n"))
	f.Add([]byte("garbage {{\n"))
	s := metrics.New(metrics.Options{Version: "v"})
	s.ObserveBackup(metrics.Backup{Job: "a", Tier: "daily", End: time.Unix(1, 0)})
	s.SetRepository(metrics.Repository{Snapshots: map[string]int{"daily": 1}})
	fams, err := s.Gatherer().Gather()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, old []byte) {
		out, err := metrics.MergeText(old, fams, nil)
		if err != nil {
			return
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(out)); err != nil {
			t.Fatalf("merged output does not parse: %v\n%s", err, out)
		}
	})
}
