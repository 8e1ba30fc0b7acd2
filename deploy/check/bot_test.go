package check

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// root is the repository's root (this module is deploy/check).
func root(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The version and commit the tests stamp, as docker build --build-arg would.
const (
	testVersion = "v9.9.9-check"
	testCommit  = "0123abcd"
)

// dockerRun is a RUN line of the Dockerfile's build stage, with the build arguments and /out
// (the stage's output directory) replaced.
func dockerRun(t *testing.T, prefix, out string) string {
	t.Helper()
	for _, line := range strings.Split(string(readFile(t, "deploy/Dockerfile")), "\n") {
		if cmd, ok := strings.CutPrefix(line, "RUN "); ok && strings.HasPrefix(cmd, prefix) {
			cmd = strings.NewReplacer("${VERSION}", testVersion, "${COMMIT}", testCommit, "/out/", out+"/").Replace(cmd)
			return cmd
		}
	}
	t.Fatalf("deploy/Dockerfile has no RUN line starting %q", prefix)
	return ""
}

var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildAsDockerfile builds the binary with the Dockerfile's own build line (into a directory
// every user may read), once for the package's tests.
func buildAsDockerfile(t *testing.T) (dir string) {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "triagebot-image"); built.err != nil {
			return
		}
		if built.err = os.Chmod(built.dir, 0o755); built.err != nil {
			return
		}
		cmd := exec.Command("sh", "-c", dockerRun(t, "CGO_ENABLED=0 go build", built.dir))
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("%s: %w\n%s", cmd.Args, err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// bot is a running triagebot process.
type bot struct {
	cmd   *exec.Cmd
	addr  chan string
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startBot(t *testing.T, cmd *exec.Cmd) *bot {
	t.Helper()
	b := &bot{cmd: cmd, addr: make(chan string, 1), done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go b.read(stderr)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-b.done
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("triagebot's log:\n%s", b.log())
		}
	})
	return b
}

func (b *bot) read(r io.Reader) {
	defer close(b.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.mu.Lock()
		b.lines = append(b.lines, sc.Text())
		b.mu.Unlock()
		var m struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
			b.addr <- m.Addr
		}
	}
}

func (b *bot) log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// base waits for the bot to listen and returns its URL.
func (b *bot) base(t *testing.T) string {
	t.Helper()
	select {
	case a := <-b.addr:
		return "http://" + a
	case <-b.done:
		_ = b.cmd.Wait()
		t.Fatalf("triagebot ended (%v) before listening:\n%s", b.cmd.ProcessState, b.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("triagebot did not listen within 60s:\n%s", b.log())
	}
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// poll waits until cond holds (polling with a deadline, never a bare sleep).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var buildInfoLine = regexp.MustCompile(`triagebot_build_info\{[^}]*\} 1`)
