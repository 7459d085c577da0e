// Package metrics keeps strata's Prometheus metrics: what the last backup,
// check and drill of each job did, and what the repository holds. The
// daemon serves them on /metrics (Set.Handler); any command writes them
// to a node_exporter textfile-collector file (Set.WriteTextfile, the
// --metrics-file flag), merged with what earlier commands wrote there.
//
// It sits above repo and backend (RepositoryState reads snapshots and
// file sizes) and below the CLI and service/daemon, which report events
// to a Set. Each Set has its own registry: no global state, so a test,
// the daemon and a command can each keep one.
//
// Words: a job is a named, scheduled operation (service/config); a run
// is one execution of a job or one command; the tier is the snapshot's
// tier (hourly, daily...). Labels never carry snapshot IDs: their
// values must stay few, so that Prometheus keeps few series. Metric names
// and their meaning are listed in README.md ("Metrics").
package metrics
