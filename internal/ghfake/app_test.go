package ghfake

import (
	"net/http/httptest"
	"testing"
	"time"
)

// GET /app answers the App the JWT was made for (a bot reads its slug there), and only to the App.
func TestGetApp(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	fake := New(WithPrefix("/api/v3/"), WithClock(clk.Now), WithApp(42, "triagebot"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	app := newClient(t, srv, "/api/v3/", func() string {
		return "Bearer " + appJWT(t, fake, "42", clk.Now().Add(-30*time.Second), clk.Now().Add(9*time.Minute))
	})
	got, _, err := app.Apps.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.GetID() != 42 || got.GetSlug() != "triagebot" {
		t.Fatalf("GET /app: id %d slug %q, want 42 triagebot", got.GetID(), got.GetSlug())
	}
	anon := newClient(t, srv, "/api/v3/", func() string { return "" })
	if _, res, err := anon.Apps.Get(ctx, ""); err == nil || res.StatusCode != 401 {
		t.Fatalf("GET /app without a JWT: %v, want 401", err)
	}
}
