package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// rssSample is the target's memory at one moment of a run: resident set now (VmRSS) and its
// peak so far (VmHWM), in bytes.
type rssSample struct {
	at       time.Duration // since the sampling started
	rss, hwm int64
}

// parseStatus reads VmRSS and VmHWM from a /proc/PID/status file.
func parseStatus(r io.Reader) (rss, hwm int64, _ error) {
	var seen int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		kb, unit, _ := bytes.Cut(bytes.TrimSpace(value), []byte(" "))
		n, err := strconv.ParseInt(string(kb), 10, 64)
		if err != nil || string(unit) != "kB" {
			return 0, 0, fmt.Errorf("%s: %q is not a size in kB", name, bytes.TrimSpace(value))
		}
		*dst = n << 10
		seen++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if seen != 2 {
		return 0, 0, errors.New("no VmRSS and VmHWM (not a live process's status)")
	}
	return rss, hwm, nil
}

func readRSS(pid int) (rss, hwm int64, _ error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rss, hwm, err = parseStatus(f)
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return rss, hwm, nil
}

// rssSampler reads a process's memory every so often while a run sends (Linux: /proc).
type rssSampler struct {
	pid   int
	start time.Time
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	samples []rssSample
	err     error
}

// sampleRSS takes a first sample of pid at once (so a wrong pid fails the run before it
// sends), then one every interval until finish.
func sampleRSS(pid int, every time.Duration) (*rssSampler, error) {
	s := &rssSampler{pid: pid, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.sample(); err != nil {
		return nil, fmt.Errorf("-pid %d: %w", pid, err)
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if s.sample() != nil {
					return // the process ended: finish reports it
				}
			}
		}
	}()
	return s, nil
}

func (s *rssSampler) sample() error {
	rss, hwm, err := readRSS(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return err
	}
	s.samples = append(s.samples, rssSample{at: time.Since(s.start), rss: rss, hwm: hwm})
	return nil
}

// finish stops the sampling, takes a last sample and returns them all, with the error that
// ended them early (the process went away), if any.
func (s *rssSampler) finish() ([]rssSample, error) {
	close(s.stop)
	<-s.done
	if s.err == nil && time.Since(s.start)-s.samples[len(s.samples)-1].at > time.Second {
		_ = s.sample()
	}
	return s.samples, s.err
}

// printRSS writes the samples and a summary: the peak, and the change over the second half of
// the run (growth that does not level off shows there).
func printRSS(w io.Writer, pid int, samples []rssSample, err error) {
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	for _, s := range samples {
		fmt.Fprintf(w, "rss pid %d at %s: VmRSS %s VmHWM %s\n", pid, s.at.Round(time.Second), mib(s.rss), mib(s.hwm))
	}
	if err != nil {
		fmt.Fprintf(w, "rss pid %d: sampling ended early: %v\n", pid, err)
	}
	if len(samples) == 0 {
		return
	}
	last := samples[len(samples)-1]
	mid := samples[len(samples)/2]
	fmt.Fprintf(w, "rss pid %d: peak (VmHWM) %s, last %s, second half %+.1f MiB\n", pid, mib(last.hwm), mib(last.rss),
		float64(last.rss-mid.rss)/(1<<20))
}
