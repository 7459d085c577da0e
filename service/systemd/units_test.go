package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnitsWriteVerifyRemove(t *testing.T) {
	dir := t.TempDir()
	o := Options{Binary: "/usr/local/bin/strata", Config: "/etc/strata dir/strata.yaml"}
	var units []Unit
	for _, j := range []Job{
		{Name: "hourly", Kind: "backup", Schedule: "0 * * * *", Zone: "Europe/Berlin"},
		{Name: "quick", Kind: "backup", Schedule: "@every 90s"},
		{Name: "odd name/x", Kind: "check", Schedule: "0 12 1 * 0"},
	} {
		u, err := JobUnits(j, o)
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u...)
	}
	units = append(units, DaemonUnit(o))
	// User units read the environment file under the user's home.
	uo := o
	uo.User = true
	uu, err := JobUnits(Job{Name: "user", Kind: "backup", Schedule: "0 3 * * *"}, uo)
	if err != nil {
		t.Fatal(err)
	}
	units = append(units, uu...)
	if !strings.Contains(uu[0].Text, "\nEnvironmentFile=-%h/.config/strata/strata.env\n") || !strings.Contains(DaemonUnit(uo).Text, "\nEnvironmentFile=-%h/.config/strata/strata.env\n") {
		t.Errorf("user units lack EnvironmentFile=-%%h/.config/strata/strata.env:\n%s\n%s", uu[0].Text, DaemonUnit(uo).Text)
	}
	// A file of another's is not overwritten, nor removed.
	foreign := filepath.Join(dir, "strata-other.service")
	if err := os.WriteFile(foreign, []byte("[Unit]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, units); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, []Unit{{Name: "strata-other.service", Text: "x"}}); err == nil || !strings.Contains(err.Error(), "not written by strata") {
		t.Fatalf("overwrote a foreign unit: %v", err)
	}
	read := func(n string) string {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for n, want := range map[string][]string{
		"strata-hourly.service":         {`ExecStart=/usr/local/bin/strata schedule run --config "/etc/strata dir/strata.yaml" hourly`, "Type=oneshot", "\nEnvironmentFile=-/etc/strata/strata.env\n"},
		"strata-hourly.timer":           {"OnCalendar=*-*-* *:00:00 Europe/Berlin\n", "Persistent=true", "Unit=strata-hourly.service", "WantedBy=timers.target"},
		"strata-quick.timer":            {"OnActiveSec=90s\nOnUnitActiveSec=90s\n"},
		`strata-odd\x20name\x2fx.timer`: {"OnCalendar=*-*-1 12:00:00 UTC\nOnCalendar=Sun *-*-* 12:00:00 UTC\n"},
		"strata-daemon.service":         {`ExecStart=/usr/local/bin/strata daemon --config "/etc/strata dir/strata.yaml"`, "ExecReload=/bin/kill -HUP $MAINPID", "WantedBy=multi-user.target", "\nEnvironmentFile=-/etc/strata/strata.env\n"},
	} {
		got := read(n)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", n, w, got)
			}
		}
		if fi, _ := os.Stat(filepath.Join(dir, n)); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", n, fi.Mode())
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		// systemd's own reading of the units: no unknown key or bad value.
		// (ExecStart's binary need not exist for the syntax check; verify
		// does complain about it, so point it at /bin/true.)
		vdir := t.TempDir()
		for _, u := range units {
			text := strings.ReplaceAll(u.Text, "/usr/local/bin/strata", "/bin/true")
			if err := os.WriteFile(filepath.Join(vdir, u.Name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range units {
			out, err := exec.Command(sa, "verify", "--man=no", filepath.Join(vdir, u.Name)).CombinedOutput()
			if err != nil || strings.Contains(string(out), "Unknown") || strings.Contains(string(out), "Failed to parse") {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u.Name, err, out)
			}
		}
	}
	removed, err := Remove(dir)
	if err != nil || len(removed) != len(units) {
		t.Fatalf("removed %d of %d: %v", len(removed), len(units), err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("removed a foreign unit: %v", err)
	}
	if left, _ := Installed(dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}
