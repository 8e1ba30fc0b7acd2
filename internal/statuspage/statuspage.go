// Package statuspage is the operator's page on the admin listener: is the bot working, what did
// it do, what is stuck and why. It is rendered on the server (html/template: every string from
// GitHub or a repository is escaped) and refreshes itself.
package statuspage

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ops"
	"github.com/triagebot/triagebot/queue"
)

// Queue is what the page reads of the queue.
type Queue interface {
	JetStream() jetstream.JetStream
	ScanAudit(ctx context.Context, scan queue.AuditScan, f func(queue.AuditEntry) bool) error
	LatestDeadLetters(ctx context.Context, n int) (uint64, []queue.DeadLetter, error)
}

// Conn is what the page shows of the NATS connection (*nats.Conn).
type Conn interface {
	Status() nats.Status
	ConnectedUrlRedacted() string
	ConnectedClusterName() string
	ConnectedServerName() string
	ConnectedServerVersion() string
}

// ReconcilerRun is the redelivery reconciler's last run.
type ReconcilerRun struct {
	At          time.Time
	Failed      int // failed deliveries found
	Redelivered int // redeliveries asked
	Err         string
}

// Sources are where the page's numbers come from. Queue, Conn and Partitions are required; a
// nil optional source shows as "not in this process".
type Sources struct {
	Role       string // serve, receive, work
	Queue      Queue
	Conn       Conn
	Partitions int
	NotReady   func(ctx context.Context) string // why the process is not ready; "" when it is
	ConfigKV   jetstream.KeyValue               // the configuration cache (work roles)
	GitHub     *ops.GitHubStats
	Channels   *ops.ChannelStats
	Handled    *ops.PerMinute
	// Reconciler is the redelivery reconciler's last run (false: it has not run yet). Nil: the
	// process has no reconciler.
	Reconciler func() (ReconcilerRun, bool)
	WebURL     string // GitHub's web root for links (https://github.com, or a GHES host)
	// AuditWindow is how many of the newest audit records the actions section searches
	// (default 5000); Actions is how many of them it shows (default 100).
	AuditWindow uint64
	Actions     int
	Now         func() time.Time
}

// Options of the page.
type Options struct {
	// Token, when set, is asked of every request: HTTP basic authentication with any user name
	// and the token as password (browsers prompt for it), or "Authorization: Bearer TOKEN".
	Token   string
	Refresh time.Duration // how often the page reloads itself (default 10s)
	Logger  *zap.Logger
}

// Handler serves the page at GET /.
type Handler struct {
	src  Sources
	opts Options
}

// New checks the sources and returns the page's handler.
func New(src Sources, opts Options) (*Handler, error) {
	if src.Queue == nil || src.Conn == nil || src.Partitions < 1 {
		return nil, fmt.Errorf("status page: queue, connection and partitions are required")
	}
	if src.AuditWindow == 0 {
		src.AuditWindow = 5000
	}
	if src.Actions == 0 {
		src.Actions = 100
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.WebURL == "" {
		src.WebURL = "https://github.com"
	}
	src.WebURL = strings.TrimSuffix(src.WebURL, "/")
	if opts.Refresh == 0 {
		opts.Refresh = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Handler{src: src, opts: opts}, nil
}

func (h *Handler) authorized(r *http.Request) bool {
	if h.opts.Token == "" {
		return true
	}
	given := ""
	if _, pw, ok := r.BasicAuth(); ok {
		given = pw
	} else if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = b
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(h.opts.Token)) == 1
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="triagebot status", charset="UTF-8"`)
		http.Error(w, "the status page needs the admin token (TRIAGEBOT_ADMIN_TOKEN)", http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	p := h.Collect(ctx, strings.TrimSpace(r.URL.Query().Get("repo")))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Nothing on the page runs script; no page may frame it.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := h.Render(w, p); err != nil {
		h.opts.Logger.Warn("status page", zap.Error(err))
	}
}

// Page is everything the page shows. A section that could not be read carries its error.
type Page struct {
	Now        time.Time
	Role       string
	Refresh    int // seconds
	Filter     string
	WebURL     string
	Ready      bool
	NotReady   string
	NATS       NATSState
	Queue      ops.QueueSnapshot
	QueueErr   string
	Handled    int // events handled by this process in the last minute; -1: no workers here
	DLQCount   uint64
	DLQ        []DeadLetterView
	DLQErr     string
	HasGitHub  bool
	GitHub     ops.GitHubSummary
	Actions    []ActionView
	Searched   int // audit records searched
	ActionsErr string
	Configs    []ghapp.ConfigProblem
	ConfigsErr string
	HasConfigs bool
	Channels   []ops.ChannelState
	HasNotify  bool
	Reconciler *ReconcilerRun
	HasRecon   bool
	Took       time.Duration // the queries' time
	Queries    int           // JetStream requests they took
}

// NATSState is the connection as the client sees it.
type NATSState struct {
	Status, URL, Cluster, Server, Version string
}

// DeadLetterView is one dead letter as the page lists it.
type DeadLetterView struct {
	queue.DeadLetter
	Repo   string
	Number int
}

// ActionView is one audit record as the page lists it.
type ActionView struct {
	handlers.AuditRecord
	What string
}

// Collect runs the page's queries; filter keeps the actions of one repository (owner/name, any case).
func (h *Handler) Collect(ctx context.Context, filter string) Page {
	start := time.Now()
	src := h.src
	p := Page{Now: src.Now().UTC(), Role: src.Role, Refresh: int(h.opts.Refresh.Seconds()), Filter: filter, WebURL: src.WebURL, Handled: -1}
	p.NATS = NATSState{Status: src.Conn.Status().String(), URL: src.Conn.ConnectedUrlRedacted(), Cluster: src.Conn.ConnectedClusterName(),
		Server: src.Conn.ConnectedServerName(), Version: src.Conn.ConnectedServerVersion()}
	if src.NotReady != nil {
		p.NotReady = src.NotReady(ctx)
		p.Queries++
	}
	p.Ready = p.NotReady == ""
	var err error
	if p.Queue, err = ops.Snapshot(ctx, src.Queue.JetStream(), src.Partitions); err != nil {
		p.QueueErr = err.Error()
	}
	p.Queries += p.Queue.Requests
	if src.Handled != nil {
		p.Handled = src.Handled.LastMinute()
	}
	var dls []queue.DeadLetter
	if p.DLQCount, dls, err = src.Queue.LatestDeadLetters(ctx, 10); err != nil {
		p.DLQErr = err.Error()
	}
	p.Queries += 2 + len(dls)
	for _, d := range dls {
		p.DLQ = append(p.DLQ, deadLetterView(d))
	}
	if src.GitHub != nil {
		p.HasGitHub, p.GitHub = true, src.GitHub.Summary(10)
	}
	p.Actions, p.Searched, err = h.actions(ctx, filter)
	if err != nil {
		p.ActionsErr = err.Error()
	}
	p.Queries += 2 + p.Searched/512
	if src.ConfigKV != nil {
		p.HasConfigs = true
		if p.Configs, err = ghapp.ConfigProblems(ctx, src.ConfigKV); err != nil {
			p.ConfigsErr = err.Error()
		}
		p.Queries++
	}
	if src.Channels != nil {
		p.HasNotify, p.Channels = true, src.Channels.States()
	}
	if src.Reconciler != nil {
		p.HasRecon = true
		if run, ok := src.Reconciler(); ok {
			p.Reconciler = &run
		}
	}
	p.Took = time.Since(start)
	return p
}

// actions are the newest audit records, newest first, of one repository when filter is set.
func (h *Handler) actions(ctx context.Context, filter string) ([]ActionView, int, error) {
	var all []ActionView
	searched := 0
	window := h.src.AuditWindow
	if filter == "" {
		window = uint64(h.src.Actions) // the newest are all shown: read no more
	}
	err := h.src.Queue.ScanAudit(ctx, queue.AuditScan{Last: window}, func(e queue.AuditEntry) bool {
		searched++
		var rec handlers.AuditRecord
		if json.Unmarshal(e.Data, &rec) != nil {
			return true
		}
		if filter != "" && !strings.EqualFold(rec.Repo, filter) {
			return true
		}
		all = append(all, ActionView{AuditRecord: rec, What: rec.What()})
		return true
	})
	// Newest first, at most Actions of them.
	out := make([]ActionView, 0, min(len(all), h.src.Actions))
	for i := len(all) - 1; i >= 0 && len(out) < h.src.Actions; i-- {
		out = append(out, all[i])
	}
	return out, searched, err
}

func deadLetterView(d queue.DeadLetter) DeadLetterView {
	v := DeadLetterView{DeadLetter: d}
	var body struct {
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Issue struct {
			Number int `json:"number"`
		} `json:"issue"`
	}
	if len(d.Body) < 1<<20 && json.Unmarshal(d.Body, &body) == nil {
		v.Repo, v.Number = body.Repository.FullName, body.Issue.Number
	}
	return v
}

//go:embed page.html.tmpl
var pageSource string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	},
	"in": func(now, t time.Time) string { return t.Sub(now).Round(time.Second).String() },
	"age": func(now, t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return now.Sub(t).Round(time.Second).String()
	},
	"bytes": func(n uint64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"ts":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"ms":   func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) },
	"inst": func(id int64) string { return map[bool]string{true: "the App (JWT)", false: fmt.Sprint(id)}[id == 0] },
}).Parse(pageSource))

// Render writes the page.
func (h *Handler) Render(w interface{ Write([]byte) (int, error) }, p Page) error {
	return page.Execute(w, p)
}
