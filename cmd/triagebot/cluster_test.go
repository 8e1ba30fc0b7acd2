package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// The scaled shape of the README: receive and two work processes on a 3-node JetStream
// cluster with replicas 3. The node leading the event stream is stopped while deliveries
// arrive and started again: every delivery answered 202 is handled exactly once (counted at
// the in-memory GitHub), the ones answered 503 while a new leader is elected are handled once
// after GitHub redelivers them, and the length of that 503 window is logged.
func TestClusterFailoverOfTheStreamLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cluster := queuetest.StartCluster(t, 3)
	fake, s := fakeGitHubSettings(t)
	s.NATSURL = cluster.URLs()
	s.AdminListen = "" // three processes: no status page
	s.Replicas = 3
	s.Partitions = 4
	s.AckWait = 2 * time.Second
	core, logs := observer.New(zapcore.WarnLevel)
	log := zap.New(core)
	opts := startOptions{ghapp: []ghapp.Option{ghapp.WithBotLogin(fake.BotLogin()), ghapp.WithWriteRate(60000, 1000)},
		reconcileEvery: -1, backoff: func(int) time.Duration { return 200 * time.Millisecond }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var procs []*app
	defer func() {
		for _, a := range procs {
			_ = a.shutdown()
		}
		if t.Failed() {
			for _, e := range logs.All() {
				t.Logf("%s %s %s %v", e.LoggerName, e.Level, e.Message, e.ContextMap())
			}
		}
	}()
	for _, role := range []string{"receive", "work", "work"} {
		a, err := start(ctx, role, s, log.Named(role), opts)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		procs = append(procs, a)
	}
	fake.SetWebhook("http://"+procs[0].addr+"/webhook", testSecret)
	const repo = "octo-org/rocket"
	if _, err := fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect(cluster.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, queue.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil {
		t.Fatalf("event stream: %d replicas, cluster %+v", info.Config.Replicas, info.Cluster)
	}
	leader := cluster.Index(info.Cluster.Leader)

	const issues = 100
	openIdeas(t, fake, repo, issues)
	opened := func(cond func(ghfake.Delivery) bool) int {
		n := 0
		for _, d := range fake.Deliveries() {
			if d.Event == "issues" && d.Action == "opened" && d.Delivered && cond(d) {
				n++
			}
		}
		return n
	}
	any := func(ghfake.Delivery) bool { return true }
	if err := fake.Wait(ctx, func() bool { return opened(any) >= 15 }); err != nil {
		t.Fatal(err)
	}
	killed, at := time.Now(), opened(any)
	cluster.Stop(leader)
	t.Logf("stopped %s, the event stream's leader, after %d deliveries (%d when it was down)", info.Cluster.Leader, at, opened(any))
	// Down for 15 more deliveries or 5 seconds, whichever comes first.
	down, cancelDown := context.WithTimeout(ctx, 5*time.Second)
	_ = fake.Wait(down, func() bool { return opened(any) >= at+15 })
	cancelDown()
	cluster.Start(leader)
	t.Logf("started %s again after %.1fs, %d deliveries made", info.Cluster.Leader, time.Since(killed).Seconds(), opened(any))
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var first, last time.Time
	refused := 0
	for _, d := range fake.Deliveries() {
		if d.Event != "issues" || d.Action != "opened" {
			continue
		}
		if d.StatusCode != http.StatusAccepted {
			refused++
			if d.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("delivery %s answered %d (%s), want 202 or 503", d.GUID, d.StatusCode, d.Status)
			}
			if first.IsZero() {
				first = d.DeliveredAt.Add(-d.Duration)
			}
			last = d.DeliveredAt
			if err := fake.Redeliver(d.ID); err != nil { // as the reconciler would ask
				t.Fatal(err)
			}
		}
	}
	window := last.Sub(first)
	t.Logf("%d of %d deliveries answered 503, over %.1fs (first %.1fs after the stop)", refused, issues,
		window.Seconds(), max(first.Sub(killed), 0).Seconds())

	done := issuesHandled(fake, repo, issues, 1)
	if err := fake.Wait(ctx, done); err != nil {
		for i := 1; i <= issues; i++ {
			if is, ok := fake.Issue(repo, i); !ok || len(is.Labels) != 1 || len(is.Comments) != 1 {
				t.Logf("issue %d: labels %v, %d comments", i, is.Labels, len(is.Comments))
			}
		}
		logQueue(t, js, st, s.Partitions)
		t.Fatalf("not every issue was handled: %v", err)
	}
	// Let the bot see its own events too, so that any duplicate write would have happened.
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pollUntil(ctx, func() bool { return pendingEvents(ctx, st) == 0 }); err != nil {
		logQueue(t, js, st, s.Partitions)
		t.Fatalf("%d events left in the stream: %v", pendingEvents(context.Background(), st), err)
	}
	lost, duplicated, rewrites := effects(fake, repo, issues)
	t.Logf("lost %d, duplicated %d of %d issues; %d label writes repeated without effect (idempotent: an event handled again after a failed ack, or the backfill of the installation racing the issues' own events)", lost, duplicated, issues, rewrites)
	if lost+duplicated > 0 {
		t.Fatalf("lost %d, duplicated %d", lost, duplicated)
	}
}

// fakeGitHubSettings is an in-memory GitHub served over HTTP (stopped when the test ends),
// through wrap when given, and the settings of a process that is its App: its key, its API
// URL, a webhook secret, a data directory, addresses of its own.
func fakeGitHubSettings(t *testing.T, wrap ...func(http.Handler) http.Handler) (*ghfake.Server, settings) {
	t.Helper()
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"))
	t.Cleanup(fake.Close)
	var h http.Handler = fake
	for _, w := range wrap {
		h = w(h)
	}
	gh := httptest.NewServer(h)
	t.Cleanup(gh.Close)
	dir := t.TempDir()
	key := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(key, fake.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = ""
	s.DataDir = filepath.Join(dir, "data")
	s.Secrets = []string{testSecret}
	s.AppID = fake.AppID()
	s.PrivateKeyFile = key
	s.GitHubURL = gh.URL + "/api/v3/"
	s.ShutdownTimeout = 5 * time.Second
	return fake, s
}

// logQueue logs what the partitions' consumers and the event stream say, when a test failed.
func logQueue(t *testing.T, js jetstream.JetStream, st jetstream.Stream, partitions int) {
	t.Helper()
	ctx := context.Background()
	for p := 0; p < partitions; p++ {
		c, err := js.Consumer(ctx, queue.EventStream, queue.ConsumerName(p))
		if err != nil {
			t.Logf("%s: %v", queue.ConsumerName(p), err)
			continue
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Logf("%s: %v", queue.ConsumerName(p), err)
			continue
		}
		t.Logf("%s: pending %d, ack pending %d, redelivered %d, waiting %d, delivered %+v, ack floor %+v, leader %+v",
			ci.Name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting, ci.Delivered, ci.AckFloor, ci.Cluster)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Logf("event stream: %v", err)
		return
	}
	t.Logf("event stream: %d messages, first %d, last %d, cluster %+v", info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, info.Cluster)
	if info.State.Msgs > 0 {
		if m, err := st.GetMsg(ctx, info.State.FirstSeq); err == nil {
			t.Logf("first left: %s %s", m.Subject, m.Header.Get(queue.HeaderDelivery))
		}
	}
}

// pendingEvents is how many events the stream still holds (MaxUint64 when it cannot say).
func pendingEvents(ctx context.Context, st jetstream.Stream) uint64 {
	info, err := st.Info(ctx)
	if err != nil {
		return ^uint64(0)
	}
	return info.State.Msgs
}

// pollUntil checks cond every 20ms until it holds or ctx ends.
func pollUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// effects counts, over issues 1..n of repo, the issues the bot never labelled (lost), and the
// issues on which an effect happened twice (duplicated): the bot's label added twice (GitHub
// sends "labeled" only when a label is really added, so this includes a label re-added after
// a human removed it) or a second bot comment. rewrites counts label requests that repeated
// one without effect: idempotent retries, not duplicates.
func effects(fake *ghfake.Server, repo string, n int) (lost, duplicated, rewrites int) {
	added := map[int]int{}
	for _, d := range fake.Deliveries() {
		if d.Event != "issues" || d.Action != "labeled" || d.Redelivery {
			continue
		}
		var ev struct {
			Issue  struct{ Number int }   `json:"issue"`
			Sender struct{ Login string } `json:"sender"`
		}
		if err := json.Unmarshal(d.Payload, &ev); err == nil && ev.Sender.Login == fake.BotLogin() {
			added[ev.Issue.Number]++
		}
	}
	posts := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/labels") && r.Status < 300 {
			posts[r.Path]++
		}
	}
	for i := 1; i <= n; i++ {
		comments := 0
		for _, c := range fake.Comments(repo, i) {
			if c.User == fake.BotLogin() {
				comments++
			}
		}
		switch {
		case added[i] == 0:
			lost++
		case added[i] > 1 || comments > 1:
			duplicated++
		}
		rewrites += max(posts[fmt.Sprintf("/repos/%s/issues/%d/labels", repo, i)]-added[i], 0)
	}
	return lost, duplicated, rewrites
}

// openIdeas opens issues 1..n of repo, each by its own user (user1, user2, …).
func openIdeas(t *testing.T, fake *ghfake.Server, repo string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := fake.OpenIssue(repo, fmt.Sprintf("user%d", i), fmt.Sprintf("idea %d", i), "please"); err != nil {
			t.Fatal(err)
		}
	}
}

// issuesHandled holds once issues 1..n of repo carry one label and `comments` comments.
func issuesHandled(fake *ghfake.Server, repo string, n, comments int) func() bool {
	return func() bool {
		for i := 1; i <= n; i++ {
			is, ok := fake.Issue(repo, i)
			if !ok || len(is.Labels) != 1 || len(is.Comments) != comments {
				return false
			}
		}
		return true
	}
}
