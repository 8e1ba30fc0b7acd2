package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/triagebot/triagebot/queue"
)

// peakRSS is the largest resident set of process pid so far (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// Bodies of callers without the secret cost the process (almost) nothing: 80 concurrent 25 MiB
// POSTs without a signature, then 80 with a forged one, take serve's peak RSS to well under
// 300 MB (the receiver read them all at once before: 3.8 GB).
func TestServeMemoryUnderLargeForgedDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and sends 4 GB over loopback")
	}
	p := startProc(t, t.TempDir(), map[string]string{
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0",
	}, "serve")
	addr := p.waitLog("listening", msgIs("listening"))["addr"].(string)
	before := peakRSS(t, p.cmd.Process.Pid)

	body := bytes.Repeat([]byte("a"), queue.MaxBody)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, sig := range []string{"", "sha256=" + strings.Repeat("0", 64)} {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[string]int{}
		)
		for i := range 80 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
				req.Header.Set("X-GitHub-Event", "issues")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprint("big-", i))
				req.Header.Set("Content-Type", "application/json")
				if sig != "" {
					req.Header.Set("X-Hub-Signature-256", sig)
				}
				got := "connection closed" // answered and closed before the body was all sent
				if res, err := client.Do(req); err == nil {
					res.Body.Close()
					got = strconv.Itoa(res.StatusCode)
				}
				mu.Lock()
				statuses[got]++
				mu.Unlock()
			})
		}
		wg.Wait()
		for s := range statuses {
			if s != "401" && s != "503" && s != "connection closed" {
				t.Errorf("signature %q: answers %v, want only 401 and 503", sig, statuses)
			}
		}
		t.Logf("signature %q: answers %v", sig, statuses)
	}
	peak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB at start, %d MiB after the forged deliveries", before>>20, peak>>20)
	if peak > 300<<20 {
		t.Fatalf("peak RSS %d MiB after 160 forged 25 MiB deliveries, want under 300 MiB", peak>>20)
	}
}
