package main

import (
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
