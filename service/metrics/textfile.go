package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// daemonOnly are families that mean something only in a long-running
// process: a counter of one command's runs is always 1.
var daemonOnly = map[string]bool{"strata_runs_total": true}

// textfileMode is the mode of a new textfile. node_exporter runs as its
// own user and must read the file; the metrics hold no secret (no
// passwords, DSNs or snapshot IDs). An existing file keeps its mode, so
// that an operator may narrow it to a group.
const textfileMode = 0o644

// WriteTextfile writes the Set's metrics to path in Prometheus's text
// format, for node_exporter's textfile collector, merged with what path
// already holds: a series this Set has not observed (the last check's
// time, after a backup; another job's backup) is kept from the file, one
// it has replaces it, and the families that describe the repository now
// (snapshots per tier, its size) are replaced whole. After SetJobs (the
// daemon) or SetConfiguredJobs, the file's series of a job strata.yaml no
// longer has (one the file lists in ConfiguredFamily) are dropped,
// so that a removed or renamed job's last success does not stay in the
// file to age and alert for ever. The file is written
// under a temporary name in the same folder (not ending in .prom, which
// the collector would read), synced, and renamed over path, so a scrape
// sees the old file or the new one, never a part.
func (s *Set) WriteTextfile(path string) error {
	fams, err := s.reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics file %s: gathering the metrics: %w", path, err)
	}
	mode := fs.FileMode(textfileMode)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("metrics file %s: %w", path, err)
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	s.mu.Lock()
	configured := s.configured
	s.mu.Unlock()
	out, err := MergeText(old, fams, configured)
	if err != nil {
		return fmt.Errorf("metrics file %s holds no metrics in Prometheus's text format (%w): remove it or give another --metrics-file", path, err)
	}
	return writeAtomic(path, out, mode)
}

// MergeText returns the text exposition of fams merged over old, a text
// exposition an earlier write left (nil for none), as WriteTextfile
// describes. It fails when old does not parse. configured, when not nil,
// are the jobs of strata.yaml: old's series of a job that an earlier
// write listed as configured (ConfiguredFamily) and configured lacks are
// dropped, and the family lists configured from then on.
func MergeText(old []byte, fams []*dto.MetricFamily, configured map[string]bool) ([]byte, error) {
	merged := map[string]*dto.MetricFamily{}
	if len(old) > 0 {
		p := expfmt.NewTextParser(model.UTF8Validation)
		parsed, err := p.TextToMetricFamilies(bytes.NewReader(old))
		if err != nil {
			return nil, err
		}
		removed := map[string]bool{}
		if f := parsed[ConfiguredFamily]; f != nil && configured != nil {
			for _, m := range f.Metric {
				if job := labelValue(m, "job"); !configured[job] {
					removed[job] = true
				}
			}
		}
		for name, f := range parsed {
			f.Metric = slices.DeleteFunc(f.Metric, func(m *dto.Metric) bool {
				return removed[labelValue(m, "job")]
			})
			if !daemonOnly[name] && len(f.Metric) > 0 {
				merged[name] = f
			}
		}
	}
	if configured != nil {
		merged[ConfiguredFamily] = configuredFamily(configured)
	}
	for _, f := range fams {
		name := f.GetName()
		if daemonOnly[name] || len(f.Metric) == 0 {
			continue
		}
		prev := merged[name]
		if prev == nil || replaced[name] || prev.GetType() != f.GetType() {
			merged[name] = f
			continue
		}
		merged[name] = mergeFamily(prev, f)
	}
	names := make([]string, 0, len(merged))
	for name := range merged {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, name := range names {
		if _, err := expfmt.MetricFamilyToText(&buf, merged[name]); err != nil {
			return nil, fmt.Errorf("family %s: %w", name, err)
		}
	}
	return buf.Bytes(), nil
}

// mergeFamily keeps the series of prev whose labels cur lacks, then cur's.
func mergeFamily(prev, cur *dto.MetricFamily) *dto.MetricFamily {
	have := map[string]bool{}
	for _, m := range cur.Metric {
		have[labelKey(m)] = true
	}
	out := &dto.MetricFamily{Name: cur.Name, Help: cur.Help, Type: cur.Type}
	for _, m := range prev.Metric {
		if !have[labelKey(m)] {
			out.Metric = append(out.Metric, m)
		}
	}
	out.Metric = append(out.Metric, cur.Metric...)
	sort.SliceStable(out.Metric, func(i, j int) bool { return labelKey(out.Metric[i]) < labelKey(out.Metric[j]) })
	return out
}

func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.Label))
	for _, l := range m.Label {
		pairs = append(pairs, l.GetName()+"\xff"+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "\xfe")
}

// writeAtomic writes data to path through a synced temporary file in
// the same folder and a rename, then syncs the folder.
func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics file %s: its folder %s does not exist: create it (node_exporter's --collector.textfile.directory) or name another file: %w", path, filepath.Clean(dir), fs.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // the rename is done; a folder that cannot sync loses nothing more
		d.Close()
	}
	return nil
}

// labelValue is m's value of the label name ("" without it).
func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// ConfiguredFamily lists, in a metrics file, the jobs of strata.yaml as
// the last command reading it (the daemon, strata schedule run) found
// them, so that the next one drops the series of a job removed or renamed
// since, and only those: a backup outside any job (labelled by its
// source) is not a configured job and stays.
const ConfiguredFamily = "strata_job_configured"

func configuredFamily(jobs map[string]bool) *dto.MetricFamily {
	names := make([]string, 0, len(jobs))
	for j := range jobs {
		names = append(names, j)
	}
	sort.Strings(names)
	f := &dto.MetricFamily{
		Name: proto.String(ConfiguredFamily),
		Help: proto.String("1 for each job of strata.yaml, as the last command reading it that wrote this file found them."),
		Type: dto.MetricType_GAUGE.Enum(),
	}
	for _, j := range names {
		f.Metric = append(f.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("job"), Value: proto.String(j)}},
			Gauge: &dto.Gauge{Value: proto.Float64(1)},
		})
	}
	return f
}
