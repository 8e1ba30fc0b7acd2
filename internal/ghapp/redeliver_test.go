package ghapp

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRedeliverFailed(t *testing.T) {
	g := newGHServer(t)
	base := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	at := func(m int) string { return base.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	delivery := func(id int, guid string, status, minute int) map[string]any {
		return map[string]any{"id": id, "guid": guid, "status_code": status, "event": "issues", "action": "opened", "delivered_at": at(minute)}
	}
	pages := map[string][]any{
		"": {
			delivery(6, "A", 200, 50), // A's redelivery succeeded
			delivery(5, "B", 502, 40),
			delivery(4, "C", 202, 30),
		},
		"next": {
			delivery(3, "A", 500, 20),
			delivery(2, "E", 0, 15),
			delivery(1, "D", 500, 5), // before since
		},
	}
	g.handle("GET /app/hook/deliveries", func(w http.ResponseWriter, r *http.Request) {
		cursor := r.URL.Query().Get("cursor")
		if cursor == "" {
			w.Header().Set("Link", fmt.Sprintf(`<%sapp/hook/deliveries?per_page=100&cursor=next>; rel="next"`, g.baseURL()))
		}
		writeJSON(w, 200, pages[cursor])
	})
	g.handle("POST /app/hook/deliveries/{id}/attempts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 202, map[string]any{})
	})
	a, _ := newTestApp(t, g)

	got, err := a.RedeliverFailed(context.Background(), base.Add(10*time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Redelivery{
		{ID: 5, GUID: "B", Event: "issues", Action: "opened", StatusCode: 502, DeliveredAt: base.Add(40 * time.Minute)},
		{ID: 2, GUID: "E", Event: "issues", Action: "opened", StatusCode: 0, DeliveredAt: base.Add(15 * time.Minute)},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("redeliveries (-want +got):\n%s", diff)
	}
	wantCalls := []string{
		"GET /app/hook/deliveries?", "GET /app/hook/deliveries?",
		"POST /app/hook/deliveries/5/attempts", "POST /app/hook/deliveries/2/attempts",
	}
	var calls []string
	for _, r := range g.all() {
		p := r.Path
		if r.Method == "GET" {
			p = p[:len("/app/hook/deliveries")] + "?"
		}
		calls = append(calls, r.Method+" "+p)
		checkJWT(t, r.Auth)
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
