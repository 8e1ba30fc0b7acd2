package main

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// freePort is a loopback port nothing listens on (for a server started later).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestStartWaitsForNATSNotReadyMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	port := freePort(t)
	p := startProc(t, t.TempDir(), map[string]string{
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN":   "off",
		"TRIAGEBOT_NATS_URL":       "nats://127.0.0.1:" + strconv.Itoa(port),
		"TRIAGEBOT_NATS_WAIT":      "60s",
	}, "serve")
	waiting := p.waitLog("waiting for NATS", func(m map[string]any) bool {
		return strings.HasPrefix(m["msg"].(string), "start-up: waiting for NATS")
	})
	base := "http://" + waiting["addr"].(string)
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "starting: waiting for NATS at nats://127.0.0.1:") {
		t.Fatalf("/readyz while waiting for NATS: %d %q, want 503 saying so", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz while waiting for NATS: %d", code)
	}
	if status := postDelivery(t, waiting["addr"].(string), "issues", "early", webhookBody(t, "issues/opened.json", nil)); status != 503 {
		t.Fatalf("a delivery before NATS answers: %d, want 503 (GitHub records it as failed, to redeliver)", status)
	}
	startExternalNATS(t, &server.Options{Port: port})
	p.waitLog("listening", msgIs("listening"))
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz once NATS answers: %d %q", code, body)
	}
	if code, _ := p.stop(syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output())
	}
}

func TestStartGivesUpOnNATSAfterTheWait(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	start := time.Now()
	p := startProc(t, t.TempDir(), map[string]string{
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN":   "off",
		"TRIAGEBOT_NATS_URL":       "nats://127.0.0.1:" + strconv.Itoa(freePort(t)),
		"TRIAGEBOT_NATS_WAIT":      "1s",
	}, "serve")
	<-p.done
	err := p.cmd.Wait()
	if code := p.cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("exit %d (%v), want 2:\n%s", code, err, p.output())
	}
	if out := p.output(); !strings.Contains(out, "triagebot: TRIAGEBOT_NATS_URL: NATS at nats://127.0.0.1:") ||
		!strings.Contains(out, "did not answer within 1s (TRIAGEBOT_NATS_WAIT)") {
		t.Fatalf("last words:\n%s", out)
	}
	t.Logf("gave up after %s", time.Since(start).Round(time.Millisecond))
}
