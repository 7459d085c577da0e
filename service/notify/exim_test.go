package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file runs Debian's Exim (exim4-daemon-light) on a loopback port as
// the SMTP server of the AUTH LOGIN and CRAM-MD5 tests: a real server
// whose authenticators are not strata's own code. Exim keeps what it
// receives in its queue (queue_only), where the tests read it.

// eximServer is an Exim daemon offering one AUTH mechanism.
type eximServer struct {
	port  int
	spool string
	log   string
}

// startExim starts Exim on a free loopback port, offering only mech
// (LOGIN or CRAM-MD5) for user "alerts" with password, and accepting
// recipients only from an authenticated client. Without exim4 the test
// is skipped (fails under CI=true: .ci/run installs exim4-daemon-light).
func startExim(t *testing.T, mech, password string) *eximServer {
	t.Helper()
	exe, err := exec.LookPath("exim4")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no exim4 on PATH: .ci/run installs exim4-daemon-light")
		}
		t.Skip("no exim4 on PATH (apt-get install exim4-daemon-light): the AUTH LOGIN and CRAM-MD5 tests are skipped")
	}
	// Exim's own user (Debian-exim) writes the spool and the log when
	// the test runs as root: the folders must let it.
	dir, err := os.MkdirTemp("", "strata-exim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv := &eximServer{spool: filepath.Join(dir, "spool"), log: filepath.Join(dir, "log")}
	for _, d := range []string{dir, srv.spool, srv.log} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	var auth string
	switch mech {
	case "LOGIN":
		// Exim's plaintext driver with LOGIN's two prompts.
		auth = fmt.Sprintf(`login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{alerts}}{eq{$auth2}{%s}}}}
  server_set_id = $auth1
`, password)
	case "CRAM-MD5":
		auth = fmt.Sprintf(`cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = ${if eq{$auth1}{alerts}{%s}fail}
  server_set_id = $auth1
`, password)
	default:
		t.Fatalf("mechanism %s", mech)
	}
	conf := fmt.Sprintf(`primary_hostname = mx.test
spool_directory = %s
log_file_path = %s/%%slog
pid_file_path = %s/exim.pid
local_interfaces = 127.0.0.1
daemon_smtp_ports = %d
tls_advertise_hosts =
keep_environment =
queue_only = true
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept authenticated = *
  deny message = authenticate first
begin authenticators
%s`, srv.spool, srv.log, dir, srv.port, auth)
	confFile := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// -bdf: the daemon in the foreground, so that the test owns it.
	cmd := exec.Command(exe, "-C", confFile, "-bdf", "-oX", fmt.Sprint(srv.port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exim does not listen on %d: %v\n%s\n%s", srv.port, err, out.String(), srv.logs())
		}
	}
	return srv
}

func (s *eximServer) logs() string {
	b, _ := os.ReadFile(filepath.Join(s.log, "mainlog"))
	r, _ := os.ReadFile(filepath.Join(s.log, "rejectlog"))
	return string(b) + string(r)
}

// queued returns the header files (-H: envelope and headers, with the
// client's authenticated ID) of the mails in Exim's queue.
func (s *eximServer) queued(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(s.spool, "input"), func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "-H") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func eximChannel(s *eximServer, password Secret) Config {
	return Config{Name: "mail", Type: TypeEmail, Email: &EmailConfig{
		Host: "127.0.0.1", Port: s.port, Username: "alerts", Password: password,
		From: "strata@db1.example", To: []string{"ops@example.com"},
	}}
}

// TestEmailAuthLoginAndCRAMMD5: strata's AUTH LOGIN and CRAM-MD5 sign in
// to Exim offering only that mechanism (on loopback, so without TLS),
// and the mail is queued under the authenticated ID; a wrong password is
// refused with Exim's 535, not retried, and not quoted in the error.
func TestEmailAuthLoginAndCRAMMD5(t *testing.T) {
	for _, mech := range []string{"LOGIN", "CRAM-MD5"} {
		t.Run(mech, func(t *testing.T) {
			srv := startExim(t, mech, "s3cret-pass")
			n := mustNotifier(t, fastOptions(), eximChannel(srv, Secret{Value: "s3cret-pass"}))
			if r := n.Send(context.Background(), failedBackup())[0]; r.Err != nil {
				t.Fatalf("%v\n%s", r.Err, srv.logs())
			}
			q := srv.queued(t)
			if len(q) != 1 || !strings.Contains(q[0], "-auth_id alerts\n") || !strings.Contains(q[0], "ops@example.com") ||
				!strings.Contains(q[0], "X-Strata-Event: backup_failed") {
				t.Fatalf("queued %q, want one mail authenticated as alerts\n%s", q, srv.logs())
			}
			// Exim logs the authenticator that accepted the client.
			if authr := map[string]string{"LOGIN": "A=login:alerts", "CRAM-MD5": "A=cram:alerts"}[mech]; !strings.Contains(srv.logs(), authr) {
				t.Errorf("exim's log does not say %s:\n%s", authr, srv.logs())
			}
			wrong := mustNotifier(t, fastOptions(), eximChannel(srv, Secret{Value: "WRONGPASSWORD"}))
			r := wrong.Send(context.Background(), failedBackup())[0]
			if r.Err == nil || !strings.Contains(r.Err.Error(), "535") || strings.Contains(r.Err.Error(), "WRONGPASSWORD") || r.Attempts != 1 {
				t.Fatalf("wrong password: %d attempts, %v", r.Attempts, r.Err)
			}
			if q := srv.queued(t); len(q) != 1 {
				t.Fatalf("%d mails queued after a refused sign-in, want 1", len(q))
			}
		})
	}
}
