package ghapp

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A cold event's independent reads are asked at once, not one after another (each took
// GitHub's latency, hundreds of milliseconds: a cold installation's first event made about
// eleven requests in a row): the two configuration layers together, then the code of conduct's
// places in rounds. Each request waits a while for company; the test records how many were in
// flight together.
func TestColdReadsAreAskedAtOnce(t *testing.T) {
	g := newGHServer(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	notFound := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		// Company arrives within 200 ms if the caller asks at once.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	}
	g.handle("GET /repos/{owner}/{repo}/contents/{path...}", notFound)
	g.handle("GET /repos/{owner}/{repo}/community/profile", notFound)
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
	// The organisation's profile and three folders are the largest round.
	if diff := cmp.Diff(map[string]int{"configuration": 2, "code of conduct": 4}, got); diff != "" {
		t.Fatalf("requests in flight at once (-want +got):\n%s", diff)
	}
}
