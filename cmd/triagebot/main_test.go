package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/internal/ghfake"
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

// setBotEnv makes the commands this test runs the App of fake, served at baseURL; the App's
// key is written into dir.
func setBotEnv(t *testing.T, fake *ghfake.Server, baseURL, dir string) {
	t.Helper()
	env, err := fake.BotEnv(dir, baseURL)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}
