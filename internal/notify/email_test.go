package notify

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/queue"
)

// smtpServer speaks just enough SMTP for net/smtp: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	ln     net.Listener
	tls    *tls.Config                     // offers STARTTLS when set (and the listener is plain)
	onTLS  bool                            // the listener itself is TLS (implicit)
	reply  func(verb string, n int) string // overrides the reply to the n-th (from 0) use of verb; "" keeps it
	mu     sync.Mutex
	mails  []smtpMail
	auths  []string
	count  map[string]int
	secure int // STARTTLS handshakes completed
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

type smtpMail struct {
	From string
	To   []string
	Data []byte
}

func newSMTPServer(t *testing.T, reply func(verb string, n int) string) *smtpServer {
	return newSMTPServerTLS(t, reply, nil, false)
}

func newSMTPServerTLS(t *testing.T, reply func(verb string, n int) string, cfg *tls.Config, implicit bool) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, cfg)
	}
	s := &smtpServer{ln: ln, reply: reply, count: map[string]int{}, conns: map[net.Conn]bool{}, tls: cfg, onTLS: implicit}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

func (s *smtpServer) answer(verb, normal string) string {
	s.mu.Lock()
	n := s.count[verb]
	s.count[verb]++
	s.mu.Unlock()
	if s.reply != nil {
		if r := s.reply(verb, n); r != "" {
			return r
		}
	}
	return normal
}

func (s *smtpServer) session(c net.Conn) {
	tp := textproto.NewConn(c)
	secure := s.onTLS
	_ = tp.PrintfLine("220 test ESMTP")
	var cur smtpMail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		switch verb {
		case "EHLO":
			if s.tls != nil && !secure {
				_ = tp.PrintfLine("250-test\r\n250-STARTTLS\r\n250 8BITMIME")
				continue
			}
			_ = tp.PrintfLine("250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME")
		case "STARTTLS":
			_ = tp.PrintfLine("220 ready")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, secure = tc, textproto.NewConn(tc), true
			s.mu.Lock()
			s.secure++
			s.mu.Unlock()
		case "MAIL", "RCPT", "DATA", "AUTH":
			if s.tls != nil && !secure {
				_ = tp.PrintfLine("530 5.7.0 must issue STARTTLS first")
				continue
			}
			s.command(tp, verb, arg, &cur)
		case "RSET", "NOOP":
			cur = smtpMail{}
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *smtpServer) command(tp *textproto.Conn, verb, arg string, cur *smtpMail) {
	switch verb {
	case "AUTH":
		mech, resp, _ := strings.Cut(arg, " ")
		dec, _ := base64.StdEncoding.DecodeString(resp)
		s.mu.Lock()
		s.auths = append(s.auths, mech+" "+string(dec))
		s.mu.Unlock()
		_ = tp.PrintfLine("%s", s.answer(verb, "235 2.7.0 accepted"))
	case "MAIL":
		*cur = smtpMail{From: between(arg, "<", ">")}
		_ = tp.PrintfLine("%s", s.answer(verb, "250 2.1.0 ok"))
	case "RCPT":
		r := s.answer(verb, "250 2.1.5 ok")
		if strings.HasPrefix(r, "250") {
			cur.To = append(cur.To, between(arg, "<", ">"))
		}
		_ = tp.PrintfLine("%s", r)
	case "DATA":
		_ = tp.PrintfLine("354 go ahead")
		data, err := tp.ReadDotBytes()
		if err != nil {
			_ = tp.Close()
			return
		}
		cur.Data = data
		r := s.answer("DATA-END", "250 2.0.0 queued")
		if strings.HasPrefix(r, "250") {
			s.mu.Lock()
			s.mails = append(s.mails, *cur)
			s.mu.Unlock()
		}
		_ = tp.PrintfLine("%s", r)
	}
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(rest, b)
	return v
}

func (s *smtpServer) received() ([]smtpMail, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...), append([]string(nil), s.auths...)
}

func emailChannel(t *testing.T, s *smtpServer) map[string]ChannelConfig {
	return emailChannelTLS(t, s, TLSNone)
}

func emailChannelTLS(t *testing.T, s *smtpServer, mode string) map[string]ChannelConfig {
	pw := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `
channels:
  ops:
    type: email
    digest: 1h
    smtp_host: 127.0.0.1
    smtp_port: ` + strconv.Itoa(s.port()) + `
    tls: ` + mode + `
    username: bot
    password_file: ` + pw + `
    from: "triagebot <bot@example.org>"
    to: [maintainers@example.org, "Lead <lead@example.org>"]
`
	chans, err := ParseServerConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return chans
}

func TestEmailOneMessagePerDigest(t *testing.T) {
	s := newSMTPServer(t, nil)
	h := start(t, emailChannel(t, s))
	h.enqueue(t, note("a", "octo/repo", 1), note("b", "octo/repo", 2), note("c", "octo/other", 3))
	h.waitPending(t, "ops", 3)
	h.d.FlushNow()
	h.streamEmpty(t)

	mails, auths := s.received()
	if diff := cmp.Diff([]string{"PLAIN \x00bot\x00hunter2"}, auths); diff != "" {
		t.Errorf("auth (-want +got):\n%s", diff)
	}
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	m := mails[0]
	if diff := cmp.Diff(smtpMail{From: "bot@example.org", To: []string{"maintainers@example.org", "lead@example.org"}},
		smtpMail{From: m.From, To: m.To}); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{
		"From":    msg.Header.Get("From"),
		"To":      msg.Header.Get("To"),
		"Subject": subject,
		"Type":    msg.Header.Get("Content-Type"),
	}
	want := map[string]string{
		"From":    `"triagebot" <bot@example.org>`,
		"To":      `<maintainers@example.org>, "Lead" <lead@example.org>`,
		"Subject": "[triagebot] 3 notifications",
		"Type":    "text/plain; charset=utf-8",
	}
	if diff := cmp.Diff(want, headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"3 notifications from triagebot:",
		`* octo/repo#1 "Crash 1 when @everyone <!channel> clicks"`,
		"https://github.com/octo/repo/issues/2",
		"* octo/other#3",
		"event: opened",
		"why: a notification route asks for issue_opened",
	} {
		if !strings.Contains(string(body), w) {
			t.Errorf("body lacks %q:\n%s", w, body)
		}
	}
}

func TestEmailRetriesTransientRefusalOnce(t *testing.T) {
	s := newSMTPServer(t, func(verb string, n int) string {
		if verb == "RCPT" && n == 0 {
			return "451 4.3.0 try again later"
		}
		return ""
	})
	h := start(t, emailChannel(t, s))
	h.enqueue(t, note("a", "octo/repo", 1))
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	h.streamEmpty(t)
	if diff := cmp.Diff([]string{ResultRetry, ResultSent}, h.outs.results()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	mails, _ := s.received()
	if len(mails) != 1 {
		t.Errorf("%d mails, want 1", len(mails))
	}
}

func TestEmailPermanentRefusalDeadLetters(t *testing.T) {
	s := newSMTPServer(t, func(verb string, _ int) string {
		if verb == "RCPT" {
			return "550 5.1.1 no such user"
		}
		return ""
	})
	h := start(t, emailChannel(t, s), WithAttempts(10, 1))
	h.enqueue(t, note("a", "octo/repo", 1))
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	dead, _ := h.outs.until(t, ResultDeadLettered)
	if !queue.IsPermanent(dead.Err) || !strings.Contains(dead.Err.Error(), "SMTP 550") {
		t.Errorf("error = %v, want a permanent SMTP 550", dead.Err)
	}
}

// TestEmailMessageHeadersCannotBeInjected: a title with line breaks stays in the subject.
func TestEmailMessageHeadersCannotBeInjected(t *testing.T) {
	n := note("a", "octo/repo", 1)
	n.Title = "hi\r\nBcc: victim@example.org"
	ch := ChannelConfig{From: "bot@example.org", To: []string{"m@example.org"}}
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(string(emailMessage(ch, []Notification{n}, time.Now())))))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Bcc"); got != "" {
		t.Errorf("a title injected Bcc: %q", got)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if want := `[triagebot] octo/repo#1: opened "hi Bcc: victim@example.org"`; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
}

// selfSigned is a certificate for 127.0.0.1 and a client configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestEmailOverTLS(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			serverTLS, clientTLS := selfSigned(t)
			s := newSMTPServerTLS(t, nil, serverTLS, mode == TLSImplicit)
			h := start(t, emailChannelTLS(t, s, mode), WithSMTPTLSConfig(clientTLS))
			h.enqueue(t, note("a", "octo/repo", 1))
			h.waitPending(t, "ops", 1)
			h.d.FlushNow()
			h.streamEmpty(t)
			mails, auths := s.received()
			if len(mails) != 1 || len(auths) != 1 {
				t.Errorf("%d mails and %d logins, want 1 and 1", len(mails), len(auths))
			}
			s.mu.Lock()
			upgraded := s.secure
			s.mu.Unlock()
			if want := map[string]int{TLSStartTLS: 1, TLSImplicit: 0}[mode]; upgraded != want {
				t.Errorf("%d STARTTLS upgrades, want %d", upgraded, want)
			}
		})
	}
}

func TestEmailStartTLSRefusesAnUntrustedServer(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	s := newSMTPServerTLS(t, nil, serverTLS, false)
	h := start(t, emailChannelTLS(t, s, TLSStartTLS), WithAttempts(1, 1)) // system roots: not trusted
	h.enqueue(t, note("a", "octo/repo", 1))
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	dead, _ := h.outs.until(t, ResultDeadLettered)
	if !strings.Contains(dead.Err.Error(), "certificate") {
		t.Errorf("error = %v, want a certificate problem", dead.Err)
	}
	if mails, auths := s.received(); len(mails) != 0 || len(auths) != 0 {
		t.Errorf("sent %d mails and %d passwords to an untrusted server", len(mails), len(auths))
	}
}
