package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/triagebot/triagebot/internal/ghfake"
	"github.com/triagebot/triagebot/queue"
)

// runGHFake starts an in-memory GitHub with c.installations installations of one repository
// each and c.issues open issues in each, starts the triagebot binary c.serve against it (its own
// data directory, real App credentials of the fake), sends the issues' opened deliveries, and
// reports, besides the answers, the time from each delivery being sent to the label request of
// its issue arriving at the fake GitHub.
func runGHFake(ctx context.Context, c config, stdout io.Writer) error {
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"), ghfake.WithFaults(ghfake.Faults{Latency: c.latency}))
	defer fake.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fakeSrv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second, ConnState: fake.ConnState}
	served := make(chan error, 1)
	go func() { served <- fakeSrv.Serve(ln) }()
	defer func() {
		_ = fakeSrv.Close()
		<-served
	}()

	for i := range c.installations {
		repo := fmt.Sprintf("load-org-%d/repo", i)
		if _, err := fake.InstallApp(fmt.Sprintf("load-org-%d", i), repo); err != nil {
			return err
		}
		for range c.issues {
			if _, err := fake.OpenIssue(repo, "octocat", "Load", "An issue of the load test."); err != nil {
				return err
			}
		}
	}
	// No webhook URL is set: the fake only records what GitHub would send, and this tool
	// sends it, at its own pace.
	var bodies []body
	for _, d := range fake.Deliveries() {
		if d.Event != "issues" || d.Action != "opened" {
			continue
		}
		var p struct {
			Issue      struct{ Number int }
			Repository struct {
				FullName string `json:"full_name"`
			}
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			return err
		}
		bodies = append(bodies, body{data: d.Payload, repo: p.Repository.FullName, issue: p.Issue.Number})
	}
	// This tool sends the deliveries; the fake builds no more of them, so that the machine's
	// CPU goes to the bot and the fake's answers, and forgets those it made (undelivered, as
	// it has no webhook URL), which the bot's reconciler would otherwise page through and ask
	// to be redelivered, all while being measured.
	fake.DropWebhooks(true)
	if err := fake.Flush(ctx); err != nil {
		return err
	}
	fake.ForgetDeliveries()
	if c.n > len(bodies) {
		fmt.Fprintf(stdout, "note: %d deliveries for %d issues: each issue's first delivery is measured\n", c.n, len(bodies))
	}

	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	c.secret, c.sign, c.event = hex.EncodeToString(secret), "valid", "issues"
	addr, stop, err := startBots(ctx, c, fake, "http://"+ln.Addr().String())
	if err != nil {
		return err
	}
	defer stop()

	fake.ResetRequests()
	conns := fake.Connections()
	res := send(ctx, c, "http://"+addr+"/webhook", bodies)
	res.print(stdout, c)

	// The first label request of each issue, after its first delivery was sent; and the first
	// delivery sent of each repository: its installation's token and the repository's look-ups
	// are fetched for it, which the repository's later events find cached.
	type first struct {
		at   time.Time
		repo string
	}
	firstSent := map[string]first{}
	firstOfRepo := map[string]time.Time{}
	for _, s := range res.sent {
		b := bodies[s.body]
		if t, ok := firstOfRepo[b.repo]; !ok || s.at.Before(t) {
			firstOfRepo[b.repo] = s.at
		}
		key := fmt.Sprintf("/repos/%s/issues/%d/labels", b.repo, b.issue)
		if f, ok := firstSent[key]; s.status == "202" && (!ok || s.at.Before(f.at)) {
			firstSent[key] = first{s.at, b.repo}
		}
	}
	effects := map[string]time.Duration{}
	deadline := time.NewTimer(c.settle)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond) // the log has each request's arrival time
	defer tick.Stop()
	for seen := 0; len(effects) < len(firstSent); {
		reqs := fake.Requests()
		for _, r := range reqs[seen:] {
			if f, ok := firstSent[r.Path]; ok && r.Method == http.MethodPost {
				if _, dup := effects[r.Path]; !dup {
					effects[r.Path] = r.Time.Sub(f.at)
				}
			}
		}
		seen = len(reqs)
		select {
		case <-tick.C:
			continue
		case <-deadline.C:
		case <-ctx.Done():
		}
		break
	}
	lat := make([]time.Duration, 0, len(effects))
	var cold, warm, started, later []time.Duration
	start := res.first()
	for path, d := range effects {
		lat = append(lat, d)
		f := firstSent[path]
		if f.at.Equal(firstOfRepo[f.repo]) {
			cold = append(cold, d)
		} else {
			warm = append(warm, d)
		}
		if f.at.Sub(start) < time.Second {
			started = append(started, d)
		} else {
			later = append(later, d)
		}
	}
	fmt.Fprintf(stdout, "delivery → label at GitHub: %d of %d issues, %s (GitHub answering in %s)\n",
		len(effects), len(firstSent), formatPercentiles(percentiles(lat)), c.latency)
	fmt.Fprintf(stdout, "  a repository's first issue: %d, %s\n", len(cold), formatPercentiles(percentiles(cold)))
	fmt.Fprintf(stdout, "  its later issues: %d, %s\n", len(warm), formatPercentiles(percentiles(warm)))
	// The bot was started just before: its first second is its warm-up (connections, buffers,
	// the heap's growth).
	fmt.Fprintf(stdout, "  sent in the first second: %d, %s\n", len(started), formatPercentiles(percentiles(started)))
	fmt.Fprintf(stdout, "  sent after it: %d, %s\n", len(later), formatPercentiles(percentiles(later)))
	stats := fake.RequestStats()
	fmt.Fprintf(stdout, "GitHub: %d requests on %d new connections while measured\n", stats.Total, fake.Connections()-conns)
	// By endpoint, most first: where the requests went (tokens, look-ups, writes).
	endpoints := slices.Collect(maps.Keys(stats.ByEndpoint))
	slices.SortFunc(endpoints, func(a, b string) int {
		return cmp.Or(cmp.Compare(stats.ByEndpoint[b], stats.ByEndpoint[a]), cmp.Compare(a, b))
	})
	for _, e := range endpoints {
		fmt.Fprintf(stdout, "  %d %s\n", stats.ByEndpoint[e], e)
	}
	if missing := len(firstSent) - len(effects); missing > 0 {
		fmt.Fprintf(stdout, "missing: %d issues got no label within -settle %s\n", missing, c.settle)
	}
	return nil
}

// bot is a triagebot process started by the tool.
type bot struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	done chan struct{}
}

// startBots starts what c asks for against fake: one `serve` (the embedded store), or with
// c.work a NATS server in this process, one `receive` and c.work `work` processes against it
// (the deployment that scales the roles apart). It returns the receiver's address once every
// process is ready, and a func that stops them all.
func startBots(ctx context.Context, c config, fake *ghfake.Server, baseURL string) (addr string, stop func(), err error) {
	// stopAll, not stop: a failed start returns a nil stop, after stopping what started.
	var (
		bots    []*bot
		nats    *queue.Embedded
		natsDir string
	)
	stopAll := func() {
		for _, b := range bots {
			b.stop()
		}
		if nats != nil {
			nats.Shutdown()
		}
		if natsDir != "" {
			os.RemoveAll(natsDir)
		}
	}
	defer func() {
		if err != nil {
			stopAll()
		}
	}()
	if c.work == 0 {
		b, err := startBot(ctx, c.serve, "serve", fake, baseURL, "TRIAGEBOT_WEBHOOK_SECRET="+c.secret)
		if err != nil {
			return "", nil, err
		}
		bots = append(bots, b)
		return b.addr, stopAll, nil
	}
	if natsDir, err = os.MkdirTemp("", "triagebot-load-nats"); err != nil {
		return "", nil, err
	}
	if nats, err = queue.StartEmbedded(queue.EmbeddedConfig{Dir: natsDir, Listen: "127.0.0.1:0"}); err != nil {
		return "", nil, err
	}
	url := "TRIAGEBOT_NATS_URL=" + nats.ClientURL()
	// The receiver first: it sets the streams up, which the workers then find.
	r, err := startBot(ctx, c.serve, "receive", fake, baseURL, url, "TRIAGEBOT_WEBHOOK_SECRET="+c.secret)
	if err != nil {
		return "", nil, err
	}
	bots = append(bots, r)
	type started struct {
		b   *bot
		err error
	}
	ch := make(chan started, c.work)
	for range c.work {
		go func() {
			b, err := startBot(ctx, c.serve, "work", fake, baseURL, url)
			ch <- started{b, err}
		}()
	}
	var errs []error
	for range c.work {
		s := <-ch
		if s.err != nil {
			errs = append(errs, s.err)
			continue
		}
		bots = append(bots, s.b)
	}
	if err := errors.Join(errs...); err != nil {
		return "", nil, err
	}
	return r.addr, stopAll, nil
}

// startBot starts `binary role` against fake, in a directory of its own, with env added, and
// waits until its /readyz answers 200.
func startBot(ctx context.Context, binary, role string, fake *ghfake.Server, baseURL string, env ...string) (*bot, error) {
	dir, err := os.MkdirTemp("", "triagebot-load")
	if err != nil {
		return nil, err
	}
	var app map[string]string
	if role != "receive" { // the receiver verifies and stores: it has no App credentials
		if app, err = fake.BotEnv(dir, baseURL); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	cmd := exec.Command(binary, role)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TRIAGEBOT_LISTEN=127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN=off", // no status page: its fixed default port may be taken
		"TRIAGEBOT_DATA_DIR="+filepath.Join(dir, "data"),
		"TRIAGEBOT_LOG_LEVEL=info",
		"TRIAGEBOT_LOG_FORMAT=json",
	)
	for k, v := range app {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s %s: %w", binary, role, err)
	}
	b := &bot{cmd: cmd, dir: dir, done: make(chan struct{})}
	addrs := make(chan string, 1)
	go b.read(stderr, addrs)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case b.addr = <-addrs:
		// Measured from when it says it is ready (its first GitHub round trip, the App's
		// login, is answered then), not from when it listens.
		if err := waitReady(ctx, "http://"+b.addr+"/readyz", t.C); err != nil {
			b.stop()
			return nil, fmt.Errorf("triagebot %s: %w", role, err)
		}
		return b, nil
	case <-b.done:
		b.stop()
		return nil, fmt.Errorf("triagebot %s exited before listening", role)
	case <-t.C:
	case <-ctx.Done():
	}
	b.stop()
	return nil, fmt.Errorf("triagebot %s did not start listening within 30s", role)
}

// waitReady polls url until it answers 200, or until deadline fires or ctx ends.
func waitReady(ctx context.Context, url string, deadline <-chan time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for {
		if resp, err := client.Get(url); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-time.After(20 * time.Millisecond): // polling, bounded by deadline
		case <-deadline:
			return fmt.Errorf("triagebot not ready within 30s: %s", last)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// read takes the address from the bot's "listening" line and passes its warnings and errors
// through to stderr.
func (b *bot) read(r io.Reader, addrs chan<- string) {
	defer close(b.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
			if a, ok := m["addr"].(string); ok {
				select {
				case addrs <- a:
				default:
				}
				continue
			}
		}
		if !strings.Contains(sc.Text(), `"level":"info"`) {
			fmt.Fprintln(os.Stderr, sc.Text())
		}
	}
}

func (b *bot) stop() {
	if b.cmd.ProcessState == nil {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		t := time.AfterFunc(15*time.Second, func() { _ = b.cmd.Process.Kill() })
		<-b.done
		_ = b.cmd.Wait()
		t.Stop()
	}
	os.RemoveAll(b.dir)
}
