package ghapp

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/triagebot/triagebot/rules"
)

// At a cold start every partition's first event wants the same configuration and lookups: they
// used to fetch the file once each (16 times at 16 partitions). Concurrent loads share one fetch.
func TestColdStartFetchesOnce(t *testing.T) {
	const callers = 16
	g := newGHServer(t)
	var mu sync.Mutex
	entered := map[string]int{}
	all := make(chan struct{})
	var once sync.Once
	// Each request waits until every caller has sent one (without single flight) or 100 ms have
	// passed (with it, the others are waiting for the first one's answer).
	g.handle("GET /repos/{owner}/{repo}/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		entered[r.URL.Path]++
		if entered[r.URL.Path] == callers {
			once.Do(func() { close(all) })
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(100 * time.Millisecond):
		}
		if r.PathValue("repo") != "r" {
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
			return
		}
		w.Header().Set("ETag", `"v1"`)
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "sha": "v1", "html_url": "https://github.example/o/r/blob/main/x",
			"content": base64.StdEncoding.EncodeToString([]byte("needs_triage: {label: triage-me}\n"))})
	})
	g.handle("GET /repos/o/r/collaborators/{user}/permission", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		entered["permission"]++
		mu.Unlock()
		writeJSON(w, 200, map[string]any{"permission": "write", "role_name": "write"})
	})
	l, _ := newLoader(t, g)
	lk, err := NewLookups(l.clients)
	if err != nil {
		t.Fatal(err)
	}
	target := rules.Target{InstallationID: 5, RepoID: 1, Owner: "o", Name: "r"}
	var wg sync.WaitGroup
	errs := make(chan error, 3*callers)
	for range callers {
		wg.Go(func() {
			cfg, err := l.Config(context.Background(), target)
			if err == nil && cfg.NeedsTriage.Label != "triage-me" {
				t.Errorf("label %q", cfg.NeedsTriage.Label)
			}
			errs <- err
			x := lk.For(target)
			_, err = x.CodeOfConductURL(context.Background())
			errs <- err
			_, err = x.Permission(context.Background(), "maya")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for path, n := range entered {
		if n != 1 {
			t.Errorf("%s asked %d times by %d concurrent events, want once", path, n, callers)
		}
	}
	if len(entered) < 3 {
		t.Errorf("requests seen: %v", entered)
	}
}

// A shared fetch is not the first caller's: when that caller's event is interrupted, the
// caller returns at once and the fetch goes on, for the others waiting on it (and the cache).
func TestSharedFetchOutlivesACancelledCaller(t *testing.T) {
	var g singleflight.Group
	started, release, fetched := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	fetch := func(ctx context.Context) (string, error) {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		fetched <- ctx.Err()
		return "fetched", ctx.Err()
	}
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := shared(first, &g, "k", fetch)
		firstErr <- err
	}()
	<-started
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted caller: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-fetched; err != nil {
		t.Errorf("the shared fetch was cancelled with its first caller: %v", err)
	}
}
