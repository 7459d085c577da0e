package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// EmailConfig is an email channel's SMTP setup.
type EmailConfig struct {
	// Host and Port of the SMTP server; Port 0 means 465 with TLS "tls",
	// 25 with "none", else 587 (submission).
	Host string
	Port int
	// TLS: "" or "auto" uses STARTTLS when the server offers it;
	// "starttls" requires it; "tls" connects with TLS from the start
	// (port 465); "none" never encrypts (a relay on this machine).
	TLS string
	// CAFile is a PEM file of certificates to trust besides the
	// system's (a private relay).
	CAFile string
	// Username and Password authenticate (PLAIN, LOGIN or CRAM-MD5,
	// whichever the server offers first); no Username, no AUTH. A password
	// is only sent over TLS or to a server on this machine.
	Username string
	Password Secret
	// From is the sender's address, To the recipients'.
	From string
	To   []string
	// SubjectPrefix starts each subject; "" means "[strata]".
	SubjectPrefix string
}

func (c *EmailConfig) validate() error {
	switch {
	case c.Host == "":
		return errors.New("no smtp host")
	case c.From == "":
		return errors.New("no from address")
	case len(c.To) == 0:
		return errors.New("no to address")
	case c.Username != "" && c.Password.IsZero():
		return errors.New("a username but no password: give password_env or password_file")
	}
	switch c.TLS {
	case "", "auto", "starttls", "tls", "none":
	default:
		return fmt.Errorf("tls %q: use auto, starttls, tls or none", c.TLS)
	}
	for _, a := range append([]string{c.From}, c.To...) {
		if strings.ContainsAny(a, "\r\n<>") || !strings.Contains(a, "@") {
			return fmt.Errorf("%q is not an email address", a)
		}
	}
	return nil
}

func (c *EmailConfig) addr() string {
	port := c.Port
	if port == 0 {
		switch c.TLS {
		case "tls":
			port = 465
		case "none":
			port = 25
		default:
			port = 587
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// mailer sends an event as a plain-text mail.
type mailer struct {
	base
	cfg      EmailConfig
	hostname string
}

func (m *mailer) Send(ctx context.Context, e Event) error {
	msg, err := m.message(e)
	if err != nil {
		return &SendError{Err: err}
	}
	err = m.deliver(ctx, msg)
	if err == nil {
		return nil
	}
	var se *SendError
	if errors.As(err, &se) {
		return err
	}
	// SMTP's 4xx replies are temporary, 5xx permanent; a connection that
	// failed or an attempt that timed out may work later.
	retry := true
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		retry = false
	}
	return &SendError{Err: fmt.Errorf("smtp %s: %w", m.cfg.addr(), err), Retry: retry}
}

func (m *mailer) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
	if m.cfg.CAFile != "" {
		pem, err := os.ReadFile(m.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", m.cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func (m *mailer) deliver(ctx context.Context, msg []byte) error {
	tc, err := m.tlsConfig()
	if err != nil {
		return &SendError{Err: err}
	}
	addr := m.cfg.addr()
	d := &net.Dialer{Timeout: defaultTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultTimeout)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if m.cfg.TLS == "tls" {
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tconn
	}
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	hostname := m.hostname
	if hostname == "" {
		hostname = "localhost"
	}
	if err := c.Hello(hostname); err != nil {
		return err
	}
	encrypted := m.cfg.TLS == "tls"
	if m.cfg.TLS != "tls" && m.cfg.TLS != "none" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			encrypted = true
		} else if m.cfg.TLS == "starttls" {
			return &SendError{Err: fmt.Errorf("smtp %s does not offer STARTTLS, which tls: starttls requires", addr)}
		}
	}
	if m.cfg.Username != "" {
		if err := m.auth(c, encrypted); err != nil {
			return err
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return err
	}
	for _, to := range m.cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("recipient %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// auth authenticates with the first mechanism the server offers of
// PLAIN, LOGIN and CRAM-MD5, refusing to send a password in the clear to
// a server not on this machine.
func (m *mailer) auth(c *smtp.Client, encrypted bool) error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return &SendError{Err: fmt.Errorf("smtp %s offers no AUTH, but a username is given", m.cfg.addr())}
	}
	if !encrypted && !isLocal(m.cfg.Host) {
		return &SendError{Err: fmt.Errorf("smtp %s: the connection is not encrypted; strata sends a password only over TLS (the server offers no STARTTLS: use tls: tls, or a relay on this machine)", m.cfg.addr())}
	}
	password, err := m.cfg.Password.Resolve(m.getenv)
	if err != nil {
		return &SendError{Err: fmt.Errorf("smtp password: %w", err)}
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	has := func(s string) bool {
		for _, o := range offered {
			if o == s {
				return true
			}
		}
		return false
	}
	var a smtp.Auth
	switch {
	case has("PLAIN"):
		a = plainAuth{user: m.cfg.Username, password: password}
	case has("LOGIN"):
		a = &loginAuth{user: m.cfg.Username, password: password}
	case has("CRAM-MD5"):
		a = smtp.CRAMMD5Auth(m.cfg.Username, password)
	default:
		return &SendError{Err: fmt.Errorf("smtp %s offers AUTH %s; strata speaks PLAIN, LOGIN and CRAM-MD5", m.cfg.addr(), mechs)}
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("authenticating as %s: %w", m.cfg.Username, err)
	}
	return nil
}

func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's PlainAuth would do, but
// it decides by itself which servers count as local; auth has decided.
type plainAuth struct{ user, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge during AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN (draft-murchison-sasl-login), which some
// submission servers offer instead of PLAIN.
type loginAuth struct {
	user, password string
	step           int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected server challenge during AUTH LOGIN")
}

// messageID returns a new Message-ID's value.
func messageID(host string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + ".strata@" + host + ">"
}
