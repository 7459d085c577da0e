package systemd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Marker starts every unit strata writes: Remove removes only files
// that start with it.
const Marker = "# Written by strata schedule install; strata schedule remove removes it."

// Options say what the units run.
type Options struct {
	// Binary is the strata binary's absolute path; Config strata.yaml's.
	Binary, Config string
	// User writes user units (systemctl --user): they are wanted by
	// default.target instead of multi-user.target.
	User bool
}

// Environment files the services read (EnvironmentFile=-, so a missing
// one is no error): the variables strata.yaml's *_env keys name go there,
// mode 0600, as NAME=value lines. A unit never holds a secret's value.
const (
	EnvironmentFile     = "/etc/strata/strata.env"
	UserEnvironmentFile = "%h/.config/strata/strata.env" // %h: the user's home
)

// EnvFile is the environment file of o's units, as written in them.
func (o Options) EnvFile() string {
	if o.User {
		return UserEnvironmentFile
	}
	return EnvironmentFile
}

// Job is a job to write a service and a timer for.
type Job struct {
	Name, Kind string
	// Schedule is the job's schedule and Zone its time zone, as in
	// strata.yaml.
	Schedule, Zone string
}

// Unit is one unit file.
type Unit struct {
	Name, Text string
}

// UnitName is the name of the units of job name (without .service or
// .timer): strata-NAME, with what systemd does not allow in a unit name
// escaped as systemd-escape does.
func UnitName(name string) string {
	var b strings.Builder
	b.WriteString("strata-")
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.' && i > 0, c == ':':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// JobUnits returns the service and timer of job.
func JobUnits(job Job, o Options) ([]Unit, error) {
	trig, err := Calendar(job.Schedule, job.Zone)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	name := UnitName(job.Name)
	service := fmt.Sprintf(`%s
[Unit]
Description=strata %s job %s
Documentation=man:strata-schedule(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
EnvironmentFile=-%s
ExecStart=%s
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`, Marker, job.Kind, job.Name, o.EnvFile(), execLine(o.Binary, "schedule", "run", "--config", o.Config, job.Name))
	var timer strings.Builder
	fmt.Fprintf(&timer, "%s\n[Unit]\nDescription=strata %s job %s on its schedule (%s)\n\n[Timer]\n", Marker, job.Kind, job.Name, oneLine(job.Schedule))
	if trig.Every > 0 {
		// OnUnitActiveSec counts from the last run, so the first comes
		// OnActiveSec after the timer starts.
		fmt.Fprintf(&timer, "OnActiveSec=%s\nOnUnitActiveSec=%s\n", seconds(trig.Every), seconds(trig.Every))
	} else {
		for _, c := range trig.OnCalendar {
			fmt.Fprintf(&timer, "OnCalendar=%s\n", c)
		}
		// A run missed while the machine was off runs once at boot.
		timer.WriteString("Persistent=true\n")
	}
	fmt.Fprintf(&timer, "Unit=%s.service\n\n[Install]\nWantedBy=timers.target\n", name)
	return []Unit{{Name: name + ".service", Text: service}, {Name: name + ".timer", Text: timer.String()}}, nil
}

// DaemonUnit is the service that runs strata daemon.
func DaemonUnit(o Options) Unit {
	target := "multi-user.target"
	if o.User {
		target = "default.target"
	}
	return Unit{Name: "strata-daemon.service", Text: fmt.Sprintf(`%s
[Unit]
Description=strata daemon: the jobs of %s on their schedules
Documentation=man:strata-daemon(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
EnvironmentFile=-%s
ExecStart=%s
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM aborts the running job cleanly (its lock released); it runs
# again at the next start.
KillSignal=SIGTERM
TimeoutStopSec=2min
Restart=on-failure
RestartSec=30s
Nice=10

[Install]
WantedBy=%s
`, Marker, oneLine(o.Config), o.EnvFile(), execLine(o.Binary, "daemon", "--config", o.Config), target)}
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// execLine quotes args for ExecStart= (systemd.service(5), "Command
// lines"): each in double quotes with \ and " escaped, % doubled.
func execLine(args ...string) string {
	var parts []string
	for _, a := range args {
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "\n", `\n`, "$", "$$").Replace(a)
		if q == a && a != "" && !strings.ContainsAny(a, " \t'") {
			parts = append(parts, a)
			continue
		}
		parts = append(parts, `"`+q+`"`)
	}
	return strings.Join(parts, " ")
}

// Write writes units into dir (created 0755 if missing), each file 0644
// written whole to a temporary name and renamed, so systemd never reads
// half a unit. A file of the same name strata did not write is refused.
func Write(dir string, units []Unit) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("unit folder %s: %w", dir, err)
	}
	for _, u := range units {
		p := filepath.Join(dir, u.Name)
		if b, err := os.ReadFile(p); err == nil && !strings.HasPrefix(string(b), Marker) {
			return fmt.Errorf("%s exists and was not written by strata: move it away or choose another --unit-dir", p)
		}
	}
	for _, u := range units {
		if err := writeUnit(filepath.Join(dir, u.Name), []byte(u.Text)); err != nil {
			return err
		}
	}
	return nil
}

func writeUnit(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Installed returns the units strata wrote in dir, by name.
func Installed(dir string) ([]Unit, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Unit
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "strata-") || !(strings.HasSuffix(n, ".service") || strings.HasSuffix(n, ".timer")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || !strings.HasPrefix(string(b), Marker) {
			continue
		}
		out = append(out, Unit{Name: n, Text: string(b)})
	}
	slices.SortFunc(out, func(a, b Unit) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Remove removes the units strata wrote in dir and returns them.
func Remove(dir string) ([]Unit, error) {
	units, err := Installed(dir)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		if err := os.Remove(filepath.Join(dir, u.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return units, nil
}

// DefaultDir is where systemd reads units from: /etc/systemd/system, or
// for user units $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user).
func DefaultDir(user bool) (string, error) {
	if !user {
		return "/etc/systemd/system", nil
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "systemd", "user"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder for user units: %w; give --unit-dir", err)
	}
	return filepath.Join(home, ".config", "systemd", "user"), nil
}
