package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server on loopback (github.com/emersion/go-smtp)
// that keeps the mails it receives.
type mailbox struct {
	addr   *net.TCPAddr
	caFile string
	mu     sync.Mutex
	mails  []received
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

type session struct {
	box  *mailbox
	conn *smtp.Conn
	cur  received
	user string
	pass string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "alerts" || password != s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur = received{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.user = s.user
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.cur)
	s.box.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// newMailbox starts an SMTP server on 127.0.0.1 that offers STARTTLS
// (when withTLS) with a certificate of its own CA, written to caFile, and
// AUTH PLAIN for user "alerts" with password.
func newMailbox(t *testing.T, withTLS bool, password string) *mailbox {
	t.Helper()
	return startMailbox(t, withTLS, false, password)
}

// startMailbox is newMailbox; implicit makes it speak TLS from the start
// (port 465's way) instead of offering STARTTLS.
func startMailbox(t *testing.T, withTLS, implicit bool, password string) *mailbox {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{box: box, conn: c, pass: password}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = !withTLS
	if withTLS {
		cert, caPEM := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		box.caFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(box.caFile, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = l.Addr().(*net.TCPAddr)
	if implicit {
		l = tls.NewListener(l, srv.TLSConfig)
		srv.TLSConfig = nil // no STARTTLS on a connection that is TLS already
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return box
}

func (b *mailbox) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.mails...)
}

// selfSigned is a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strata test mx"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func emailChannel(box *mailbox, tlsMode string, password Secret) Config {
	return Config{Name: "mail", Type: TypeEmail, Email: &EmailConfig{
		Host: "127.0.0.1", Port: box.addr.Port, TLS: tlsMode, CAFile: box.caFile,
		Username: "alerts", Password: password,
		From: "strata@db1.example", To: []string{"ops@example.com", "dba@example.com"},
	}}
}

func TestEmailSTARTTLSAuth(t *testing.T) {
	box := newMailbox(t, true, "s3cret pass")
	pwFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pwFile, []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := mustNotifier(t, fastOptions(), emailChannel(box, "", Secret{File: pwFile}))
	e := failedBackup()
	e.Job = "kunden-stündlich" // a subject that needs encoding
	if r := n.Send(context.Background(), e)[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	mails := box.received()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := mails[0]
	if !m.tls || m.user != "alerts" || m.from != "strata@db1.example" || strings.Join(m.to, ",") != "ops@example.com,dba@example.com" {
		t.Fatalf("envelope: tls %v, user %q, from %q, to %v", m.tls, m.user, m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "[strata] CRITICAL backup failed: kunden-stündlich" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	for k, v := range map[string]string{"From": "strata@db1.example", "To": "ops@example.com, dba@example.com",
		"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "quoted-printable",
		"X-Strata-Event": "backup_failed", "Auto-Submitted": "auto-generated"} {
		if got := msg.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(e.Time) {
		t.Errorf("Date: %v (%v)", d, err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") {
		t.Errorf("Message-ID %q", id)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backup of postgres://app@db1/customers failed: connection refused", "Job:        kunden-stündlich", "Tier:       hourly", "export failed: connection refused"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	box := startMailbox(t, true, true, "pw")
	n := mustNotifier(t, fastOptions(), emailChannel(box, "tls", Secret{Value: "pw"}))
	if r := n.Send(context.Background(), failedBackup())[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	if m := box.received(); len(m) != 1 || !m[0].tls || m[0].user != "alerts" {
		t.Fatalf("%+v", m)
	}
}

func TestEmailFailures(t *testing.T) {
	t.Run("starttls required but not offered", func(t *testing.T) {
		box := newMailbox(t, false, "pw")
		n := mustNotifier(t, fastOptions(), emailChannel(box, "starttls", Secret{Value: "pw"}))
		r := n.Send(context.Background(), failedBackup())[0]
		if r.Err == nil || !strings.Contains(r.Err.Error(), "does not offer STARTTLS") || r.Attempts != 1 {
			t.Fatalf("%d attempts: %v", r.Attempts, r.Err)
		}
		if len(box.received()) != 0 {
			t.Fatal("a mail was sent without TLS")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		box := newMailbox(t, true, "right")
		t.Setenv("STRATA_TEST_SMTP_PW", "WRONGPASSWORD")
		n := mustNotifier(t, fastOptions(), emailChannel(box, "", Secret{Env: "STRATA_TEST_SMTP_PW"}))
		r := n.Send(context.Background(), failedBackup())[0]
		var se *SendError
		if r.Err == nil || !strings.Contains(r.Err.Error(), "535") || strings.Contains(r.Err.Error(), "WRONGPASSWORD") || r.Attempts != 1 || !errors.As(r.Err, &se) {
			t.Fatalf("%d attempts: %v", r.Attempts, r.Err)
		}
	})
	t.Run("certificate not trusted", func(t *testing.T) {
		box := newMailbox(t, true, "pw")
		c := emailChannel(box, "", Secret{Value: "pw"})
		c.Email.CAFile = ""
		n := mustNotifier(t, fastOptions(), c)
		r := n.Send(context.Background(), failedBackup())[0]
		if r.Err == nil || !strings.Contains(r.Err.Error(), "certificate") {
			t.Fatalf("%v", r.Err)
		}
	})
	t.Run("server down, retried", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		n := mustNotifier(t, fastOptions(), Config{Name: "m", Type: TypeEmail, Email: &EmailConfig{Host: "127.0.0.1", Port: port, TLS: "none", From: "a@b.c", To: []string{"d@e.f"}}})
		r := n.Send(context.Background(), failedBackup())[0]
		if r.Err == nil || r.Attempts != 4 || !strings.Contains(r.Err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
			t.Fatalf("%d attempts: %v", r.Attempts, r.Err)
		}
	})
}

func TestEmailConfigRefused(t *testing.T) {
	for _, c := range []EmailConfig{
		{From: "a@b.c", To: []string{"d@e.f"}},
		{Host: "h", To: []string{"d@e.f"}},
		{Host: "h", From: "a@b.c"},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f\r\nBcc: x@y.z"}},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f"}, Username: "u"},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f"}, TLS: "ssl"},
	} {
		if _, err := New(Config{Name: "m", Type: TypeEmail, Email: &c}, NewOptions{}); err == nil {
			t.Errorf("%+v taken", c)
		}
	}
}
