package ghapp

import (
	"io"
	"net/http"
	"time"
)

// Connection reuse: Go's transport puts a connection back in the pool only when the answer's
// body was read to its end before being closed. go-github closes without reading when a call
// gives it no destination for the body (an add-labels POST), and a JSON decoder may stop before
// the end; either way every such request used to cost a new connection (a TLS handshake with
// GitHub). drainBody reads what is left when the body is closed, so every answer leaves its
// connection reusable, whoever closes it.
type drainBody struct{ next http.RoundTripper }

// drainLimit bounds what Close reads: an answer larger than that is cheaper to drop with its
// connection than to read.
const drainLimit = 256 << 10

// idleConnsPerHost keeps a connection per concurrent request of the workers (Go's default keeps
// 2 per host, so a burst of 16 partitions opened 14 new connections each time).
const idleConnsPerHost = 64

// ResponseTimeout is how long a request waits for GitHub's answer to begin once sent. GitHub
// ends its own work on a request after 10 seconds; a connection that swallowed the request (a
// NAT or proxy that dropped it) would otherwise hold the event's handler, and so the event,
// for as long as the process lives. The request then fails as GitHub being unreachable does,
// and the event is retried.
const ResponseTimeout = 30 * time.Second

func (t drainBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &drainOnClose{ReadCloser: resp.Body}
	}
	return resp, err
}

// CloseIdleConnections passes the call on (App.Close).
func (t drainBody) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type drainOnClose struct{ io.ReadCloser }

func (b *drainOnClose) Close() error {
	_, _ = io.Copy(io.Discard, io.LimitReader(b.ReadCloser, drainLimit))
	return b.ReadCloser.Close()
}

// NewTransport is the transport to share for GitHub when the App is given none, and the one to
// wrap when a caller wraps it (to count requests, say): Go's defaults, with an idle pool sized
// for the workers' concurrency (a wrapper around http.DefaultTransport instead keeps 2 idle
// connections per host, and every burst past two requests dials again), and a bound on the
// wait for an answer (ResponseTimeout).
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.MaxIdleConns = 4 * idleConnsPerHost
	t.ResponseHeaderTimeout = ResponseTimeout
	return t
}
