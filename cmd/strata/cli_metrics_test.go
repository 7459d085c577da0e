package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/repo"
)

// readMetrics parses a --metrics-file as node_exporter's textfile
// collector would.
func readMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics file %s does not parse: %v", path, err)
	}
	return fams
}

// metricValue returns the gauge of family name whose labels include
// labels (name, value pairs).
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func TestMetricsFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	mf := filepath.Join(t.TempDir(), "strata.prom")

	c.stdin = []byte(strings.Repeat("metrics ", 5000))
	c.ok("backup", "--stdin", "--stdin-name", "data.txt", "--tier", "daily", "--metrics-file", mf)
	fams := readMetrics(t, mf)
	job := []string{"job", "stdin:data.txt", "tier", "daily"}
	success, ok := metricValue(fams, "strata_backup_last_success_timestamp_seconds", job...)
	if !ok || success < 1e9 {
		t.Fatalf("strata_backup_last_success_timestamp_seconds%v = %v, %v; want a time", job, success, ok)
	}
	if v, _ := metricValue(fams, "strata_backup_added_bytes", job...); v <= 0 {
		t.Errorf("strata_backup_added_bytes = %v, want the bytes the backup added", v)
	}
	if v, _ := metricValue(fams, "strata_snapshots", "tier", "daily"); v != 1 {
		t.Errorf("strata_snapshots{tier=daily} = %v, want 1", v)
	}
	if v, _ := metricValue(fams, "strata_repository_stored_bytes"); v <= 0 {
		t.Errorf("strata_repository_stored_bytes = %v", v)
	}
	if v, ok := metricValue(fams, "strata_command_success", "command", "backup"); !ok || v != 1 {
		t.Errorf("strata_command_success{command=backup} = %v, %v", v, ok)
	}

	// A check adds its metrics; the backup's stay.
	c.vars["STRATA_METRICS_FILE"] = mf
	c.ok("check")
	fams = readMetrics(t, mf)
	if _, ok := metricValue(fams, "strata_check_last_success_timestamp_seconds"); !ok {
		t.Error("no strata_check_last_success_timestamp_seconds after check")
	}
	if v, _ := metricValue(fams, "strata_backup_last_success_timestamp_seconds", job...); v != success {
		t.Errorf("the backup's last success %v became %v after a check", success, v)
	}

	// A failed backup of the same job: failure recorded, last success kept.
	bad := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(bad, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.vars["STRATA_PASSWORD_FILE"] = bad
	c.stdin = []byte("x")
	c.code(exitWrongPass, "backup", "--stdin", "--stdin-name", "data.txt", "--tier", "daily")
	fams = readMetrics(t, mf)
	if v, ok := metricValue(fams, "strata_backup_success", job...); !ok || v != 0 {
		t.Errorf("strata_backup_success after a failed backup = %v, %v; want 0", v, ok)
	}
	if v, _ := metricValue(fams, "strata_backup_last_success_timestamp_seconds", job...); v != success {
		t.Errorf("a failed backup changed the last success from %v to %v", success, v)
	}
	if v, _ := metricValue(fams, "strata_command_exit_code", "command", "backup"); v != exitWrongPass {
		t.Errorf("strata_command_exit_code{command=backup} = %v, want %d", v, exitWrongPass)
	}
	c.vars["STRATA_PASSWORD_FILE"] = c.pwFile
	id := c.snapshots()[0].ID
	for name, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), id[:8]) {
					t.Errorf("%s has label %s=%q: a snapshot ID", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestMetricsFileUnwritable: a command that worked but could not write
// its metrics file fails, so that cron reports it: the monitoring would
// otherwise go on seeing the last success.
func TestMetricsFileUnwritable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	mf := filepath.Join(t.TempDir(), "missing-folder", "strata.prom")
	_, errOut := c.code(exitError, "snapshots", "--metrics-file", mf)
	if !strings.Contains(errOut, mf) {
		t.Errorf("stderr does not name the metrics file:\n%s", errOut)
	}
	// It says what is wrong, not the name of a temporary file.
	if !strings.Contains(errOut, "folder "+filepath.Dir(mf)+" does not exist") || strings.Contains(errOut, ".tmp-") {
		t.Errorf("stderr does not say the folder is missing:\n%s", errOut)
	}
}

func TestMetricsFileDrill(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path, "--tier", "weekly")
	mf := filepath.Join(t.TempDir(), "strata.prom")
	c.ok("verify", "drill", "latest", "--metrics-file", mf)
	fams := readMetrics(t, mf)
	if v, ok := metricValue(fams, "strata_drill_restore_seconds", "table", "*"); !ok || v <= 0 {
		t.Errorf("strata_drill_restore_seconds{table=\"*\"} = %v, %v; want the restore's time", v, ok)
	}
	if _, ok := metricValue(fams, "strata_drill_restore_seconds", "table", "orders"); !ok {
		t.Errorf("no strata_drill_restore_seconds{table=\"orders\"}: each table's load time")
	}
	if v, ok := metricValue(fams, "strata_drill_success"); !ok || v != 1 {
		t.Errorf("strata_drill_success = %v, %v; want 1", v, ok)
	}
	if _, ok := metricValue(fams, "strata_drill_last_success_timestamp_seconds"); !ok {
		t.Error("no strata_drill_last_success_timestamp_seconds")
	}
	if v, _ := metricValue(fams, "strata_snapshots", "tier", "weekly"); v != 1 {
		t.Errorf("strata_snapshots{tier=weekly} = %v, want 1", v)
	}
}

// TestMetricsRepositoryLocksOthersOnly: strata_repository_locks counts
// other processes' locks, not the writing command's own, so that the
// shipped alert (strata_repository_locks > 0 for 6h) stays quiet on a
// healthy install and fires while another lock stands. (Before, the
// command's own lock made it never below 1.)
func TestMetricsRepositoryLocksOthersOnly(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	mf := filepath.Join(t.TempDir(), "strata.prom")
	c.stdin = []byte("some data")
	c.ok("backup", "--stdin", "--stdin-name", "data.txt", "--metrics-file", mf)
	if v, ok := metricValue(readMetrics(t, mf), "strata_repository_locks"); !ok || v != 0 {
		t.Fatalf("strata_repository_locks after a backup alone = %v, %v; want 0", v, ok)
	}
	lock, err := c.openAPI(repo.Options{}).Lock(context.Background(), false, "test: another process's shared lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock(context.Background())
	c.ok("snapshots", "--metrics-file", mf)
	if v, ok := metricValue(readMetrics(t, mf), "strata_repository_locks"); !ok || v != 1 {
		t.Fatalf("strata_repository_locks with another process's lock = %v, %v; want 1", v, ok)
	}
}

// TestMetricsStoredBytesAudit: strata_repository_stored_bytes is the size
// of every file of the repository but the locks, its audit trail
// included, as health's stored bytes. (Before, it left out the audit
// folder.)
func TestMetricsStoredBytesAudit(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.stdin = []byte("some data")
	c.ok("backup", "--stdin", "--stdin-name", "data.txt")
	var onDisk, audit int64
	err := filepath.WalkDir(c.repo, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(c.repo, path)
		if strings.HasPrefix(rel, "locks"+string(filepath.Separator)) || rel == "reserve" {
			return nil // the locks, and the space held for a full disk
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		onDisk += fi.Size()
		if strings.HasPrefix(rel, "audit"+string(filepath.Separator)) {
			audit += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if audit == 0 {
		t.Fatal("the backup left no audit record")
	}
	mf := filepath.Join(t.TempDir(), "strata.prom")
	c.ok("snapshots", "--metrics-file", mf)
	if v, _ := metricValue(readMetrics(t, mf), "strata_repository_stored_bytes"); int64(v) != onDisk {
		t.Fatalf("strata_repository_stored_bytes = %v, want %d (every file but the locks; the audit trail %d of it)", v, onDisk, audit)
	}
	if rep := c.healthJSON(0); rep.Storage == nil || rep.Storage.StoredBytes != onDisk {
		t.Fatalf("health's stored bytes %+v, want %d", rep.Storage, onDisk)
	}
}
