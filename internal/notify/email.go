package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

type emailSender struct {
	now       func() time.Time
	tlsConfig *tls.Config // nil: the system roots, ServerName = smtp_host
	timeout   time.Duration
}

// emailMessage is the RFC 5322 message of one digest.
func emailMessage(ch ChannelConfig, items []Notification, now time.Time) []byte {
	var subject string
	if len(items) == 1 {
		n := items[0]
		subject = fmt.Sprintf("[triagebot] %s#%d: %s", n.Repo, n.Number, n.event())
		if n.Title != "" {
			subject += " " + strconv.Quote(oneLine(n.Title))
		}
	} else {
		subject = fmt.Sprintf("[triagebot] %d notifications", len(items))
	}
	var h bytes.Buffer
	fmt.Fprintf(&h, "From: %s\r\n", headerAddress(ch.From))
	to := make([]string, len(ch.To))
	for i, t := range ch.To {
		to[i] = headerAddress(t)
	}
	fmt.Fprintf(&h, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&h, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	fmt.Fprintf(&h, "Date: %s\r\n", now.Format(time.RFC1123Z))
	// The same digest sent again (the crash window) keeps its Message-ID: mail systems may drop it.
	fmt.Fprintf(&h, "Message-ID: <%s@triagebot>\r\n", digestID(items))
	h.WriteString("Auto-Submitted: auto-generated\r\n")
	h.WriteString("MIME-Version: 1.0\r\n")
	h.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	h.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")

	var body strings.Builder
	if len(items) > 1 {
		fmt.Fprintf(&body, "%d notifications from triagebot:\n\n", len(items))
	}
	for _, n := range items {
		fmt.Fprintf(&body, "* %s#%d", n.Repo, n.Number)
		if n.Title != "" {
			fmt.Fprintf(&body, " %q", oneLine(n.Title))
		}
		body.WriteString("\n")
		fmt.Fprintf(&body, "  event: %s\n", oneLine(n.event()))
		if n.Text != "" {
			fmt.Fprintf(&body, "  %s\n", oneLine(n.Text))
		}
		if n.Reason != "" {
			fmt.Fprintf(&body, "  why: %s\n", oneLine(n.Reason))
		}
		if n.URL != "" {
			fmt.Fprintf(&body, "  %s\n", n.URL)
		}
		body.WriteString("\n")
	}
	qp := quotedprintable.NewWriter(&h)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	_ = qp.Close()
	return h.Bytes()
}

// headerAddress is an address as a header writes it (a non-ASCII name encoded); the
// configuration was validated, so a parse failure is impossible there.
func headerAddress(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return oneLine(s)
	}
	return a.String()
}

// send mails one digest. SMTP 5xx replies are permanent, 4xx and network errors transient.
func (e emailSender) send(ctx context.Context, ch ChannelConfig, items []Notification) error {
	msg := emailMessage(ch, items, e.now())
	from, err := mail.ParseAddress(ch.From)
	if err != nil {
		return sendErrorf(true, "email from: %v", err)
	}
	var to []string
	for _, t := range ch.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return sendErrorf(true, "email to: %v", err)
		}
		to = append(to, a.Address)
	}
	if err := e.deliver(ctx, ch, from.Address, to, msg); err != nil {
		return classifySMTP(ch, err)
	}
	return nil
}

func (e emailSender) deliver(ctx context.Context, ch ChannelConfig, from string, to []string, msg []byte) error {
	addr := net.JoinHostPort(ch.SMTPHost, strconv.Itoa(ch.SMTPPort))
	timeout := e.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tcfg := &tls.Config{ServerName: ch.SMTPHost, MinVersion: tls.VersionTLS12}
	if e.tlsConfig != nil {
		tcfg = e.tlsConfig.Clone()
		if tcfg.ServerName == "" {
			tcfg.ServerName = ch.SMTPHost
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// net/smtp has no contexts: the deadline and a cancelled ctx end the conversation.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if ch.TLS == TLSImplicit {
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, ch.SMTPHost)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("triagebot"); err != nil {
		return err
	}
	if ch.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return sendErrorf(true, "email %s: the server does not offer STARTTLS", ch.SMTPHost)
		}
		if err := c.StartTLS(tcfg); err != nil {
			return err
		}
	}
	if ch.Username != "" {
		pw, err := os.ReadFile(ch.PasswordFile)
		if err != nil {
			return sendErrorf(false, "email %s: read password_file: %v", ch.SMTPHost, errors.Unwrap(err))
		}
		// PlainAuth refuses to send the password unencrypted except to localhost.
		auth := smtp.PlainAuth("", ch.Username, strings.TrimRight(string(pw), "\r\n"), ch.SMTPHost)
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, t := range to {
		if err := c.Rcpt(t); err != nil {
			return err
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
	// The server has taken the message: a failed QUIT must not make us send it again.
	_ = c.Quit()
	return nil
}

func classifySMTP(ch ChannelConfig, err error) error {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return sendErrorf(te.Code >= 500, "email %s: SMTP %d %s", ch.SMTPHost, te.Code, te.Msg)
	}
	return sendErrorf(false, "email %s: %v", ch.SMTPHost, err)
}
