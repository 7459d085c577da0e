package notify

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// message is the mail for event e: headers (RFC 5322) and a
// quoted-printable UTF-8 plain-text body with the event's fields and the
// log's tail.
func (m *mailer) message(e Event) ([]byte, error) {
	prefix := m.cfg.SubjectPrefix
	if prefix == "" {
		prefix = "[strata]"
	}
	subject := strings.TrimPrefix(e.Title(), "strata ")
	var b bytes.Buffer
	header := func(k, v string) {
		// No header value may hold a line break (header injection).
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	header("From", m.cfg.From)
	header("To", strings.Join(m.cfg.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", prefix+" "+subject))
	date := e.Time
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.Format(time.RFC1123Z))
	host := m.hostname
	if host == "" {
		host = "localhost"
	}
	header("Message-ID", messageID(host))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	header("X-Strata-Event", string(e.Kind))
	header("X-Strata-Severity", e.Severity.String())
	b.WriteString("\r\n")

	var body strings.Builder
	body.WriteString(e.message() + "\n\n")
	for _, f := range e.fields() {
		fmt.Fprintf(&body, "%-11s %s\n", f[0]+":", f[1])
	}
	if e.Log != "" {
		body.WriteString("\nThe end of the run's log:\n\n")
		body.WriteString(tail(e.Log, pingBodyMax))
		if !strings.HasSuffix(e.Log, "\n") {
			body.WriteString("\n")
		}
	}
	body.WriteString("\n-- \nstrata\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(body.String(), "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
