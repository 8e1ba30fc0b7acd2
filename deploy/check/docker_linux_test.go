//go:build linux

package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nonroot is the distroless image's nonroot user, which runs the bot.
const nonroot = 65532

// TestDockerfileBuildRunsAsNonroot builds the binary with the Dockerfile's build line, prepares
// /data with the Dockerfile's line, and runs `serve` as uid 65532 on it, as the image does
// (no Docker engine runs here).
func TestDockerfileBuildRunsAsNonroot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; running as another user needs root")
		}
		t.Skip("running the binary as uid 65532 needs root")
	}
	out := buildAsDockerfile(t)
	bin := filepath.Join(out, "triagebot")
	// The image's /data: made by the Dockerfile's own line, in a directory of this test.
	img := t.TempDir()
	// The test's directories are root's (0700): let the nonroot user through, as to /.
	for d := img; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prep := exec.Command("sh", "-c", dockerRun(t, "mkdir -p /out/data", img))
	if b, err := prep.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", prep.Args, err, b)
	}
	data := filepath.Join(img, "data")
	st, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != nonroot || sys.Gid != nonroot {
		t.Fatalf("/data belongs to %d:%d, want %d:%d", sys.Uid, sys.Gid, nonroot, nonroot)
	}

	cmd := exec.Command(bin, "serve")
	cmd.Dir = "/"
	cmd.Env = []string{
		"TRIAGEBOT_DATA_DIR=" + data, // the image's ENV
		"TRIAGEBOT_WEBHOOK_SECRET=check",
		"TRIAGEBOT_LISTEN=127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN=127.0.0.1:0",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot},
		Pdeathsig:  syscall.SIGKILL,
	}
	b := startBot(t, cmd)
	base := b.base(t)
	poll(t, "/readyz", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	_, metrics := get(t, base+"/metrics")
	info := buildInfoLine.FindString(metrics)
	if !strings.Contains(info, `version="`+testVersion+`"`) || !strings.Contains(info, `commit="`+testCommit+`"`) {
		t.Errorf("the version is not stamped: %q", info)
	}
	js, err := os.Stat(filepath.Join(data, "jetstream"))
	if err != nil {
		t.Fatalf("nothing stored in /data: %v\n%s", err, b.log())
	}
	if sys := js.Sys().(*syscall.Stat_t); sys.Uid != nonroot {
		t.Errorf("the store belongs to uid %d, want %d", sys.Uid, nonroot)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { <-b.done; exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, b.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", b.log())
	}
}

// TestDockerignoreKeepsHistoryAndDataOut: the build context (the repository root) leaves out
// .git, local data stores and keys.
func TestDockerignoreKeepsHistoryAndDataOut(t *testing.T) {
	lines := map[string]bool{}
	for _, l := range strings.Split(string(readFile(t, ".dockerignore")), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{".git", "**/triagebot-data", "**/*.pem", "deploy/secrets"} {
		if !lines[want] {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
