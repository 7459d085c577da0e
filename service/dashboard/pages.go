package dashboard

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"strata/service/daemon"
	"strata/service/health"
	"strata/service/state"
	"strata/verify"
)

// pageNames are the templates in templates/, each executed with
// layout.html.
var pageNames = []string{"login", "overview", "charts", "snapshots", "drills", "runs", "run", "message"}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	},
	"bytes":   func(n uint64) string { return health.Bytes(int64(n)) },
	"ibytes":  func(n int64) string { return health.Bytes(n) },
	"age":     func(sec float64) string { return health.Age(time.Duration(sec * float64(time.Second))) },
	"dur":     func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() },
	"seconds": func(s float64) string { return fmt.Sprintf("%.2fs", s) },
	"join":    strings.Join,
	// dataRead: what a check read of the data ("read data 10%").
	"dataRead": verify.DataRead,
	"add":      func(a, b int) int { return a + b },
	"pct":      func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"deref": func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	},
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// jobRow is one line of the overview's table of jobs.
type jobRow struct {
	Name, Kind, Source, Tier, Schedule string
	// Health is the series' health; nil for a job that makes no
	// snapshots (a check, a drill) or has none yet.
	Health *health.JobHealth
	// AgePercent is the newest snapshot's age as a share of its limit,
	// for the bar (capped at 100).
	AgePercent float64
	LastRun    *state.Run
	NextDue    time.Time
	Queued     bool
	Running    bool
	// LockWaitSince is set while the job's run waits for another
	// process's lock, stepped aside: since when it waits.
	LockWaitSince time.Time
	CanRun        bool
}

type overviewData struct {
	Report *health.Report
	Tables []SourceTables
	// Drills are the last drill of each source, by source, for the
	// tables' status.
	Drills   map[string]*health.DrillHealth
	Jobs     []jobRow
	Daemon   bool // a scheduler is attached: next runs and run now
	HasRuns  bool
	Storage  *health.StorageHealth
	StoreBar float64
}

// HasTableResults says whether source's last drill recorded each table's
// result (older records hold only counts).
func (d *overviewData) HasTableResults(source string) bool {
	dr := d.Drills[source]
	return dr != nil && len(dr.TableResults) > 0
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	d := overviewData{Daemon: s.opts.Scheduler != nil, HasRuns: s.opts.History != nil}
	p := s.page(r, "overview", "Overview", &d)
	rep, err := s.opts.Source.Health(r.Context())
	if err != nil {
		s.log.Error("dashboard: reading the repository's health", "err", err)
		p.Error = "reading the repository: " + err.Error()
		rep = &health.Report{}
	}
	d.Report = rep
	d.Drills = map[string]*health.DrillHealth{}
	for i := range rep.Drills {
		d.Drills[rep.Drills[i].Source] = &rep.Drills[i]
	}
	if d.Tables, err = s.opts.Source.Tables(r.Context()); err != nil {
		s.log.Error("dashboard: reading the tables", "err", err)
		p.Error = "reading the tables: " + err.Error()
	}
	for i := range d.Tables {
		dr := d.Drills[d.Tables[i].Source]
		if dr == nil {
			continue
		}
		for j := range d.Tables[i].Tables {
			t := &d.Tables[i].Tables[j]
			for k := range dr.TableResults {
				if dr.TableResults[k].Table == t.Name {
					t.Drill = &dr.TableResults[k]
				}
			}
		}
	}
	if rep.Storage != nil && rep.Storage.TotalBytes > 0 {
		d.Storage, d.StoreBar = rep.Storage, min(rep.Storage.Percent, 100)
	}
	byName := map[string]*health.JobHealth{}
	for i := range rep.Jobs {
		byName[rep.Jobs[i].Job] = &rep.Jobs[i]
	}
	seen := map[string]bool{}
	if s.opts.Scheduler != nil {
		for _, j := range s.opts.Scheduler.Jobs() {
			row := jobRow{Name: j.Name, Kind: j.Kind, Source: j.Source, Tier: j.Tier, Schedule: j.Schedule,
				NextDue: j.NextDue, Queued: j.Queued, Running: j.Running, CanRun: !j.Queued && !j.Running, Health: byName[j.Name]}
			if j.Waiting {
				row.LockWaitSince = j.LockWaitSince
			}
			seen[j.Name] = true
			d.Jobs = append(d.Jobs, row)
		}
	}
	if js, ok := s.opts.History.(JobStates); ok && s.opts.Scheduler == nil {
		// strata serve with the daemon's state folder: its jobs and next
		// due times, as the daemon last wrote them.
		jobs, err := js.Jobs()
		if err != nil {
			p.Error = "reading the daemon's state: " + err.Error()
		}
		names := make([]string, 0, len(jobs))
		for name := range jobs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			j := jobs[name]
			seen[name] = true
			d.Jobs = append(d.Jobs, jobRow{Name: name, Schedule: j.Schedule, NextDue: j.NextDue, Health: byName[name]})
		}
	}
	for i := range rep.Jobs {
		jh := &rep.Jobs[i]
		if !seen[jh.Job] {
			d.Jobs = append(d.Jobs, jobRow{Name: jh.Job, Kind: "backup", Source: jh.Source, Tier: jh.Tier, Health: jh})
		}
	}
	for i := range d.Jobs {
		row := &d.Jobs[i]
		if h := row.Health; h != nil && h.MaxAgeSeconds > 0 {
			row.AgePercent = min(100, 100*h.AgeSeconds/h.MaxAgeSeconds)
		}
		if s.opts.History != nil {
			if runs, err := s.opts.History.Runs(row.Name, 1); err == nil && len(runs) > 0 {
				row.LastRun = &runs[0]
				if row.Kind == "" {
					row.Kind = runs[0].Kind
				}
				// Without the daemon, its record says the run waits, as
				// strata health reads it.
				if s.opts.Scheduler == nil && runs[0].Result == state.Running && !runs[0].LockWaitSince.IsZero() {
					row.Running, row.LockWaitSince = true, runs[0].LockWaitSince
				}
			}
		}
	}
	s.render(w, http.StatusOK, "overview", p)
}

type chartsData struct {
	Charts []chart
	Empty  bool
}

func (s *Server) charts(w http.ResponseWriter, r *http.Request) {
	var d chartsData
	p := s.page(r, "charts", "Growth", &d)
	pts, err := s.opts.Source.Growth(r.Context())
	if err != nil {
		s.log.Error("dashboard: reading the growth", "err", err)
		p.Error = "reading the repository: " + err.Error()
	}
	d.Charts = tierCharts(pts)
	d.Empty = len(pts) == 0
	s.render(w, http.StatusOK, "charts", p)
}

func (s *Server) snapshots(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "snapshots", "Snapshots", nil)
	list, err := s.opts.Source.Snapshots(r.Context())
	if err != nil {
		s.log.Error("dashboard: listing the snapshots", "err", err)
		p.Error = "reading the repository: " + err.Error()
		list = &SnapshotList{}
	}
	p.Data = list
	s.render(w, http.StatusOK, "snapshots", p)
}

type drillsData struct {
	Drills  []health.DrillHealth
	Sources []health.SourceHealth
	Runs    []state.Run
	HasRuns bool
}

func (s *Server) drills(w http.ResponseWriter, r *http.Request) {
	d := drillsData{HasRuns: s.opts.History != nil}
	p := s.page(r, "drills", "Drills", &d)
	rep, err := s.opts.Source.Health(r.Context())
	if err != nil {
		s.log.Error("dashboard: reading the drills", "err", err)
		p.Error = "reading the repository: " + err.Error()
	} else {
		d.Drills, d.Sources = rep.Drills, rep.Sources
	}
	if s.opts.History != nil {
		runs, err := s.opts.History.Runs("", 500)
		if err != nil && runs == nil {
			p.Error = "reading the run history: " + err.Error()
		}
		for _, run := range runs {
			if run.Kind == "drill" {
				d.Runs = append(d.Runs, run)
			}
		}
	}
	s.render(w, http.StatusOK, "drills", p)
}

type runsData struct {
	Job     string
	Jobs    []string
	Runs    []state.Run
	Queued  string
	HasRuns bool
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	d := runsData{Job: r.URL.Query().Get("job"), Queued: r.URL.Query().Get("queued"), HasRuns: s.opts.History != nil}
	p := s.page(r, "runs", "Runs", &d)
	if s.opts.History != nil {
		runs, err := s.opts.History.Runs(d.Job, 200)
		if err != nil && runs == nil {
			p.Error = "reading the run history: " + err.Error()
		}
		d.Runs = runs
	}
	if s.opts.Scheduler != nil {
		for _, j := range s.opts.Scheduler.Jobs() {
			d.Jobs = append(d.Jobs, j.Name)
		}
		sort.Strings(d.Jobs)
	}
	s.render(w, http.StatusOK, "runs", p)
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	if s.opts.History == nil {
		s.message(w, r, http.StatusNotFound, "No run history", "This dashboard has no run history: strata serve shows it with --state-dir (the daemon's state folder), and strata daemon --listen always.")
		return
	}
	run, err := s.opts.History.Run(r.PathValue("id"))
	if err != nil {
		s.message(w, r, http.StatusNotFound, "No such run", err.Error())
		return
	}
	s.render(w, http.StatusOK, "run", s.page(r, "runs", "Run "+run.Job, run))
}

func (s *Server) runNow(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.opts.Scheduler == nil {
		s.message(w, r, http.StatusServiceUnavailable, "Run now needs the daemon",
			"This dashboard was started by strata serve, which runs no jobs. Open the dashboard of strata daemon --listen to queue "+name+", or run it with strata schedule run "+name+".")
		return
	}
	err := s.opts.Scheduler.RunNow(name)
	switch {
	case err == nil:
		s.log.Info("dashboard: job queued", "job", name, "remote", r.RemoteAddr)
		http.Redirect(w, r, "/runs?queued="+url.QueryEscape(name), http.StatusSeeOther)
	case errors.Is(err, daemon.ErrUnknownJob):
		s.message(w, r, http.StatusNotFound, "No such job", err.Error())
	case errors.Is(err, daemon.ErrAlreadyQueued):
		s.message(w, r, http.StatusConflict, "Already queued", err.Error())
	default:
		s.message(w, r, http.StatusServiceUnavailable, "Not queued", err.Error())
	}
}

type messageData struct{ Heading, Text string }

func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	s.render(w, status, "message", s.page(r, "", heading, messageData{heading, text}))
}
