package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binary the process tests built; TestMain removes it.
var binDir string

// binary builds triagebot once for the tests that run it as a process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "triagebot-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "triagebot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out), err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// proc is a running triagebot with its JSON log lines collected.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  []string
	wake chan struct{}
	done chan struct{}
}

func startProc(t *testing.T, dir string, env map[string]string, args ...string) *proc {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	dieWithTest(cmd)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if _, ok := env["TRIAGEBOT_ADMIN_LISTEN"]; !ok {
		// The status page's default port is fixed: processes of parallel tests would collide.
		cmd.Env = append(cmd.Env, "TRIAGEBOT_ADMIN_LISTEN=127.0.0.1:0")
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

func (p *proc) read(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		p.mu.Lock()
		p.raw = append(p.raw, sc.Text())
		if m != nil {
			p.logs = append(p.logs, m)
		}
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// waitLog waits for a log line for which match holds, and returns it.
func (p *proc) waitLog(what string, match func(map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.logs {
			if match(l) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-p.done:
			p.t.Fatalf("process ended before logging %s:\n%s", what, p.output())
		case <-deadline:
			p.t.Fatalf("timed out waiting for log %s:\n%s", what, p.output())
		}
	}
}

// waitCount waits until at least n log lines match.
func (p *proc) waitCount(what string, match func(map[string]any) bool, n int) {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for p.countLogs(match) < n {
		select {
		case <-p.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("timed out waiting for %d log lines: %s (have %d)\n%s", n, what, p.countLogs(match), p.output())
		}
	}
}

func (p *proc) countLogs(match func(map[string]any) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.logs {
		if match(l) {
			n++
		}
	}
	return n
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.raw, "\n")
}

func msgIs(msg string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["msg"] == msg }
}

// stop sends sig and returns the exit code and how long the process took to exit.
func (p *proc) stop(sig syscall.Signal, limit time.Duration) (int, time.Duration) {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { <-p.done; exited <- p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-exited
		p.t.Fatalf("still running %s after %s:\n%s", sig, limit, p.output())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

func TestServeOnEmbeddedDefaultWithOnlyASecret(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startProc(t, dir, map[string]string{
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0", // the one change from the defaults: free ports
		"TRIAGEBOT_ADMIN_LISTEN":   "127.0.0.1:0",
	}, "serve")
	addr := p.waitLog("listening", msgIs("listening"))["addr"].(string)
	if n := p.countLogs(func(m map[string]any) bool { return strings.HasPrefix(m["msg"].(string), "dry run") }); n != 1 {
		t.Fatalf("%d log lines say it runs in dry-run, want 1:\n%s", n, p.output())
	}
	if _, err := os.Stat(filepath.Join(dir, "triagebot-data", "jetstream")); err != nil {
		t.Fatalf("embedded JetStream not in ./triagebot-data: %v", err)
	}
	body := webhookBody(t, "issues/opened.json", nil)
	if status := postDelivery(t, addr, "issues", "proc-1", body); status != 202 {
		t.Fatalf("status %d", status)
	}
	handled := p.waitLog("the event handled", func(m map[string]any) bool {
		return m["msg"] == "event handled" && m["delivery_id"] == "proc-1"
	})
	for k, want := range map[string]any{"event": "issues", "action": "opened", "repo": "Codertocat/Hello-World", "number": 1.0, "actions": 1.0} {
		if handled[k] != want {
			t.Errorf("log field %s = %v, want %v", k, handled[k], want)
		}
	}
	if strings.Contains(p.output(), testSecret) {
		t.Fatal("the webhook secret appears in the log")
	}
	code, took := p.stop(syscall.SIGTERM, 10*time.Second)
	if code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, p.output())
	}
	t.Logf("stopped %s after SIGTERM", took)
}
