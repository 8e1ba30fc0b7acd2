package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantRSS int64
		wantHWM int64
		wantErr string
	}{
		{"a process", "Name:\ttriagebot\nVmPeak:\t 1200 kB\nVmHWM:\t   34052 kB\nVmRSS:\t   30000 kB\nThreads:\t9\n", 30000 << 10, 34052 << 10, ""},
		{"a kernel thread", "Name:\tkthreadd\nThreads:\t1\n", 0, 0, "no VmRSS and VmHWM"},
		{"another unit", "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", 0, 0, `VmHWM: "1 MB" is not a size in kB`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rss, hwm, err := parseStatus(strings.NewReader(tt.give))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || rss != tt.wantRSS || hwm != tt.wantHWM {
				t.Fatalf("got %d, %d, %v; want %d, %d", rss, hwm, err, tt.wantRSS, tt.wantHWM)
			}
		})
	}
}

// -pid samples a process's memory during the run: here the tool's own, serving its baseline.
func TestLoadSamplesTheTargetsMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pid := strconv.Itoa(os.Getpid())
	out := load(t, "-baseline", "-secret", "s3cret", "-payload", opened, "-n", "200", "-c", "4", "-pid", pid, "-sample-every", "100ms")
	for _, want := range []string{
		`rss pid ` + pid + ` at 0s: VmRSS [\d.]+ MiB VmHWM [\d.]+ MiB\n`,
		`rss pid ` + pid + `: peak \(VmHWM\) [\d.]+ MiB, last [\d.]+ MiB, second half [-+][\d.]+ MiB\n`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestLoadRefusesAPidItCannotRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	var out, errs strings.Builder
	err := run(t.Context(), []string{"-baseline", "-secret", "x", "-payload", opened, "-pid", "999999999"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "-pid 999999999: open /proc/999999999/status") {
		t.Fatalf("error %v, want the pid's status unreadable", err)
	}
}

// -serve-baseline serves the bare handler alone, for a load from another process.
func TestServeBaselineAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-serve-baseline", "127.0.0.1:0", "-secret", "s3cret", "-duration", "1m"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "baseline listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v; want where the baseline listens", line, err)
	}
	got := load(t, "-url", "http://"+addr+"/webhook", "-secret", "s3cret", "-payload", opened, "-n", "20", "-c", "2")
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "status 202: 20\n") {
		t.Errorf("load of the served baseline:\n%s", got)
	}
}
