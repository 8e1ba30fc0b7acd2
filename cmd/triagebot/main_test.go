package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/internal/queuetest"
)

func TestMain(m *testing.M) {
	// The status page's default address is a fixed port: commands run in-process by parallel
	// tests (and by other packages' tests at the same time) would collide on it.
	if _, ok := os.LookupEnv("TRIAGEBOT_ADMIN_LISTEN"); !ok {
		os.Setenv("TRIAGEBOT_ADMIN_LISTEN", "127.0.0.1:0")
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(queuetest.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
