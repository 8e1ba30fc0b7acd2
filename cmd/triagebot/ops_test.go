package main

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func adm(listen, token string) settings {
	return settings{serverSettings: serverSettings{AdminListen: listen, AdminToken: token}}
}

func TestAdminListenerRefusesExposureWithoutAToken(t *testing.T) {
	tests := []struct {
		give settings
		want string // "" when it opens
	}{
		{adm("127.0.0.1:0", ""), ""},
		{adm("localhost:0", ""), ""},
		{adm("[::1]:0", ""), ""},
		{adm("", ""), ""},
		{adm("0.0.0.0:0", ""), "TRIAGEBOT_ADMIN_LISTEN: 0.0.0.0:0 is not a loopback address: set TRIAGEBOT_ADMIN_TOKEN to expose the status page"},
		{adm(":0", ""), "TRIAGEBOT_ADMIN_LISTEN: :0 is not a loopback address"},
		{adm(":0", "t"), ""},
	}
	for _, tt := range tests {
		ln, err := adminListener(tt.give)
		if ln != nil {
			ln.Close()
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.give, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err, &strings.Builder{}) != 2):
			t.Errorf("%+v: %v, want exit 2 with %q", tt.give, err, tt.want)
		}
	}
	_, _, errOut := runCmd(t, "serve", "--admin-listen", "nowhere")
	if !strings.Contains(errOut, `admin-listen: "nowhere" is not host:port or off`) {
		t.Errorf("a malformed admin address: %q", errOut)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	a := startTestApp(t, newRecorder())
	if code, out, errOut := runCmd(t, "healthcheck", "--listen", a.addr); code != 0 || out != "ready\n" {
		t.Fatalf("healthcheck of a ready bot: exit %d, %q %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "healthcheck", "--live", "--listen", a.addr); code != 0 || out != "ok\n" {
		t.Fatalf("healthcheck --live: exit %d, %q", code, out)
	}
	a.draining.Store(true)
	if code, _, errOut := runCmd(t, "healthcheck", "--listen", a.addr); code != 1 || !strings.Contains(errOut, "/readyz answered 503: shutting down") {
		t.Fatalf("healthcheck while shutting down: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "healthcheck", "--listen", "127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "healthcheck:") {
		t.Fatalf("healthcheck of nothing: exit %d, %q", code, errOut)
	}
}

// flakyAuditor refuses its first failures writes, as JetStream does while it elects a leader.
type flakyAuditor struct {
	failures int
	calls    int
	stored   []any
}

func (f *flakyAuditor) Audit(_ context.Context, _ int64, _ int, rec any) error {
	f.calls++
	if f.calls <= f.failures {
		return errors.New("nats: no responders available for request")
	}
	f.stored = append(f.stored, rec)
	return nil
}

// The record of a notification sent outlives a leader election: it is tried again until stored.
func TestAuditRecordOfASentNotificationIsRetried(t *testing.T) {
	f := &flakyAuditor{failures: 3}
	if err := auditRetrying(context.Background(), f, 1, 2, "record"); err != nil {
		t.Fatal(err)
	}
	if f.calls != 4 || len(f.stored) != 1 {
		t.Fatalf("%d calls, %d stored; want 4 and 1", f.calls, len(f.stored))
	}
	// A store that never answers gives up when the context ends, with the store's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := auditRetrying(ctx, &flakyAuditor{failures: 1 << 30}, 1, 2, "record"); err == nil {
		t.Fatal("no error from a store that never took the record")
	}
}
