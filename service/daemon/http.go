package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"strata/service/state"
)

// Handler serves the daemon's JSON API, for scripts and the dashboard:
//
//	GET  /api/jobs               the jobs (JobStatus), by name
//	GET  /api/runs?job=J&limit=N runs, newest first (state.Run without its log)
//	GET  /api/runs/{id}          one run, with its log
//	POST /api/jobs/{name}/run    run now: 202, 404 unknown job, 409 already queued
//
// It checks no credentials: mount it behind the dashboard's token check.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		out := d.Jobs()
		if out == nil {
			out = []JobStatus{}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /api/runs", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 {
			limit = 100
		}
		runs, err := d.Runs(r.URL.Query().Get("job"), limit)
		if err != nil && runs == nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		for i := range runs {
			runs[i].Log = ""
		}
		if runs == nil {
			runs = []state.Run{}
		}
		writeJSON(w, http.StatusOK, runs)
	})
	mux.HandleFunc("GET /api/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		run, err := d.store.Run(r.PathValue("id"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, run)
	})
	mux.HandleFunc("POST /api/jobs/{name}/run", func(w http.ResponseWriter, r *http.Request) {
		err := d.RunNow(r.PathValue("name"))
		switch {
		case err == nil:
			writeJSON(w, http.StatusAccepted, map[string]string{"queued": r.PathValue("name")})
		case errors.Is(err, ErrUnknownJob):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.Is(err, ErrAlreadyQueued):
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		}
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
