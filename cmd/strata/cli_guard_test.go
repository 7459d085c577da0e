package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuardRecordsNoSecret: the command line a guard snapshot records,
// as `snapshots --json` shows it, has every secret masked, and the
// guarded command does not see strata's password variables.
func TestGuardRecordsNoSecret(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	envOut := filepath.Join(t.TempDir(), "env")
	for _, k := range []string{"STRATA_PASSWORD", "STRATA_PASSWORD_FILE", "STRATA_PASSWORD_COMMAND"} {
		t.Setenv(k, "leaked-"+k)
	}
	secrets := []string{"hunter2", "secret6", "secret5", "pa/ss@word", "Pw4", "Pw5", "Pw6", "Pw7", "Pw8", "Pw9", "PwA", "PwB", "PwC"}
	// The script never reaches the tools after exit: only its record
	// matters.
	script := `env > "$1"; exit 0; redis-cli -a Pw8 save; PGPASSWORD=Pw9 psql -p 5433; mysql --password='PwA x' app; ` +
		`ldapsearch -w PwB; deploy -t PwC`
	c.ok("guard", "--db", "sqlite://"+path, "--", "sh", "-c", script, "sh", envOut,
		"--password", "hunter2", "--token", "secret6", "--api-key=secret5",
		"postgres://app:pa/ss@word@db.local/app", "DB_PASSWORD=Pw4", "-pPw5",
		"host=h password=Pw6 dbname=app", "mysql://root:Pw7@h/app")
	sns := c.snapshots("--tag", "pre-op")
	if len(sns) != 1 {
		t.Fatalf("%d pre-op snapshots", len(sns))
	}
	out := c.ok("snapshots", "--json")
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("snapshots --json shows %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"--password ***", "--token ***", "--api-key=***", "postgres://app:***@db.local/app", "DB_PASSWORD=***", "password=***",
		"redis-cli -a *** save; PGPASSWORD=*** psql -p 5433; mysql --password=*** app; ldapsearch -w ***; deploy -t ***"} {
		if !strings.Contains(out, want) {
			t.Errorf("snapshots --json lacks %q:\n%s", want, out)
		}
	}
	env, err := os.ReadFile(envOut)
	if err != nil {
		t.Fatalf("the guarded command did not run: %v", err)
	}
	if strings.Contains(string(env), "STRATA_PASSWORD") {
		t.Errorf("the guarded command inherited strata's password variables:\n%s", env)
	}
	if !strings.Contains(string(env), "PATH=") {
		t.Errorf("the guarded command lost its environment:\n%s", env)
	}
}

// TestGuardMissingCommand: a command that does not exist is found
// missing before any snapshot is taken.
func TestGuardMissingCommand(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	_, errOut := c.code(exitError, "guard", "--db", "sqlite://"+path, "--", "strata-no-such-command", "--x")
	if !strings.Contains(errOut, `"strata-no-such-command"`) || !strings.Contains(errOut, "no snapshot was taken") {
		t.Errorf("guard of a missing command:\n%s", errOut)
	}
	if sns := c.snapshots(); len(sns) != 0 {
		t.Errorf("guard took %d snapshots for a command that does not exist", len(sns))
	}
}

// TestGuardRecordsNoSecretToolForms: the secret forms of common tools
// are masked in the record too: sshpass's -p PASS, curl's -u
// user:password (also as --user= and -uUSER:PASS), and secret fields of
// a JSON body.
func TestGuardRecordsNoSecretToolForms(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("guard", "--db", "sqlite://"+path, "--", "sh", "-c", "true", "sh",
		"-p", "Pw8", "-u", "bob:Pw9", "--user=carol:Pw10", "-udave:Pw11",
		`{"user":"eve","password":"Pw12"}`, "sshpass -p Pw13 ssh h")
	out := c.ok("snapshots", "--json")
	for _, s := range []string{"Pw8", "Pw9", "Pw10", "Pw11", "Pw12", "Pw13"} {
		if strings.Contains(out, s) {
			t.Errorf("snapshots --json shows %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "bob:***") || !strings.Contains(out, "eve") {
		t.Errorf("the record lost what is not secret:\n%s", out)
	}
}

// TestGuardRecordsWholeCommand: an argument that holds a secret header
// ("Authorization: Bearer x") is masked without swallowing the arguments
// after it: the record still names the URL the command was run against.
func TestGuardRecordsWholeCommand(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("guard", "--db", "sqlite://"+path, "--", "sh", "-c", "exit 0", "sh",
		"-H", "Authorization: Bearer tok7secret", "--verbose", "https://api.example/v1/drop", "-H", "X-Api-Key: key8secret", "--json")
	out := c.ok("snapshots", "--json", "--tag", "pre-op")
	for _, s := range []string{"tok7secret", "key8secret"} {
		if strings.Contains(out, s) {
			t.Errorf("snapshots --json shows %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"'Authorization: ***' --verbose https://api.example/v1/drop -H 'X-Api-Key: ***' --json"} {
		if !strings.Contains(out, want) {
			t.Errorf("snapshots --json lacks %q:\n%s", want, out)
		}
	}
}
