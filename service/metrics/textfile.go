package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
// (snapshots per tier, its size) are replaced whole. The file is written
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
	out, err := MergeText(old, fams)
	if err != nil {
		return fmt.Errorf("metrics file %s holds no metrics in Prometheus's text format (%w): remove it or give another --metrics-file", path, err)
	}
	return writeAtomic(path, out, mode)
}

// MergeText returns the text exposition of fams merged over old, a text
// exposition an earlier write left (nil for none), as WriteTextfile
// describes. It fails when old does not parse.
func MergeText(old []byte, fams []*dto.MetricFamily) ([]byte, error) {
	merged := map[string]*dto.MetricFamily{}
	if len(old) > 0 {
		p := expfmt.NewTextParser(model.UTF8Validation)
		parsed, err := p.TextToMetricFamilies(bytes.NewReader(old))
		if err != nil {
			return nil, err
		}
		for name, f := range parsed {
			if !daemonOnly[name] {
				merged[name] = f
			}
		}
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
