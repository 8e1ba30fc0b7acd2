package ghapp

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A cold event's independent reads are asked at once, not one after another (each took
// GitHub's latency, hundreds of milliseconds: a cold installation's first event made about
// eleven requests in a row): the two configuration layers together, then the code of conduct's
// places in rounds. Each request waits (up to 5 s) until as many requests as its round holds
// have been in flight together; the test records how many were.
func TestColdReadsAreAskedAtOnce(t *testing.T) {
	g := newGHServer(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	// round is how many requests are asked together with r: the two configuration layers; the
	// repository's profile, its three folders and whether the owner has a .github repository
	// (it has none here, so its profile and folders are not asked).
	round := func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/triagebot.yml") {
			return 2
		}
		return 5
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		// Asked one after another, the round never completes: each waits out the deadline.
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			complete := most >= round(r)
			mu.Unlock()
			if complete || time.Now().After(deadline) || r.Context().Err() != nil {
				break
			}
			time.Sleep(time.Millisecond) // polling, bounded by the deadline
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	}
	g.handle("GET /repos/{owner}/{repo}/contents/{path...}", notFound)
	g.handle("GET /repos/{owner}/{repo}/community/profile", notFound)
	g.handle("GET /repos/{owner}/{repo}", notFound)
	peak := func(f func()) int {
		mu.Lock()
		most = 0
		mu.Unlock()
		f()
		mu.Lock()
		defer mu.Unlock()
		return most
	}
	ctx := context.Background()
	l, _ := newLoader(t, g)
	lk, err := NewLookups(l.clients)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{
		"configuration": peak(func() {
			if _, err := l.Config(ctx, target); err != nil {
				t.Fatal(err)
			}
		}),
		"code of conduct": peak(func() {
			if url, err := lk.For(target).CodeOfConductURL(ctx); err != nil || url != "" {
				t.Fatalf("CodeOfConductURL = %q, %v", url, err)
			}
		}),
	}
	// The repository's profile, its three folders and the owner's .github repository: one round.
	if diff := cmp.Diff(map[string]int{"configuration": 2, "code of conduct": 5}, got); diff != "" {
		t.Fatalf("requests in flight at once (-want +got):\n%s", diff)
	}
}
