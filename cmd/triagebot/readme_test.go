package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlocks are the ```sh blocks of README.md, each with whether it is marked runnable
// (<!-- runnable --> on the line before).
func readmeBlocks(t *testing.T) (blocks [][]string, runnable []bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		var block []string
		j := i + 1
		for ; j < len(lines) && lines[j] != "```"; j++ {
			block = append(block, lines[j])
		}
		blocks = append(blocks, block)
		runnable = append(runnable, i > 0 && strings.TrimSpace(lines[i-1]) == "<!-- runnable -->")
		i = j
	}
	return blocks, runnable
}

// Every command of a runnable README block works on a fresh clone, run against the built binary
// from the repository's root, with the data directory in a temporary directory.
func TestREADMECommands(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	blocks, runnable := readmeBlocks(t)
	ran := 0
	offline := regexp.MustCompile(`^go run \./cmd/triagebot (config|replay|demo|version)\b`)
	for i, block := range blocks {
		for _, line := range block {
			if !runnable[i] {
				if offline.MatchString(line) {
					t.Errorf("README: %q runs offline but its block is not marked <!-- runnable -->", line)
				}
				continue
			}
			cmdline := strings.Replace(line, "go run ./cmd/triagebot", bin, 1)
			cmd := exec.Command("sh", "-c", cmdline)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "TRIAGEBOT_DATA_DIR="+t.TempDir())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("README: %s: %v\n%s", line, err, out)
			}
			ran++
		}
	}
	if ran < 3 {
		t.Errorf("ran %d README commands; the runnable markers are gone?", ran)
	}
}
