package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// Issues open before the App was installed get needs-triage (unless a label says someone
// triaged them) and the priority their comment count reaches, once the App is installed; no
// comment is posted for history.
func TestBackfillOnInstallation(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	const repo = "octo-org/old"
	if err := l.Fake.CreateRepository(repo); err != nil {
		t.Fatal(err)
	}
	quiet, _ := l.Fake.OpenIssue(repo, "alice", "Old and quiet", "nobody looked")
	busy, _ := l.Fake.OpenIssue(repo, "bob", "Old and busy", "everyone wants it")
	for i := 0; i < 12; i++ {
		if _, err := l.Fake.Comment(repo, busy, "fan", "+1"); err != nil {
			t.Fatal(err)
		}
	}
	labelled, _ := l.Fake.OpenIssue(repo, "carol", "Old and labelled", "a maintainer labelled it", "bug")
	if n := len(l.Fake.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries before the App was installed", n)
	}
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	want := map[int][]string{quiet: {"needs-triage"}, busy: {"needs-triage", "priority: medium"}, labelled: {"bug"}}
	for n, labels := range want {
		is, _ := l.Fake.Issue(repo, n)
		if diff := cmp.Diff(labels, sorted(is.Labels)); diff != "" {
			t.Errorf("#%d labels (-want +got):\n%s", n, diff)
		}
		if c := botComments(l, repo, n); len(c) != 0 {
			t.Errorf("#%d: the bot commented on history: %q", n, c)
		}
	}
}

func TestBackfillCommandRejectsBadInput(t *testing.T) {
	for _, k := range []string{"TRIAGEBOT_APP_ID", "TRIAGEBOT_PRIVATE_KEY_FILE"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	tests := []struct {
		give []string
		want string
	}{
		{[]string{"backfill"}, `expected "<owner/repo>"`},
		{[]string{"backfill", "octo/a/b"}, `backfill: "octo/a/b" is not OWNER/REPO`},
		{[]string{"backfill", "octo/rocket"}, "TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE: required to backfill"},
	}
	for _, tt := range tests {
		code, _, errOut := runCmd(t, tt.give...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.give, code, errOut, tt.want)
		}
	}
}

// triagebot backfill OWNER/REPO walks the repository's open issues through the App, prints a
// line per page, and does not walk it again.
func TestBackfillCommand(t *testing.T) {
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"))
	defer fake.Close()
	gh := httptest.NewServer(fake)
	defer gh.Close()
	const repo = "octo-org/old"
	if err := fake.CreateRepository(repo); err != nil {
		t.Fatal(err)
	}
	quiet, _ := fake.OpenIssue(repo, "alice", "Old and quiet", "nobody looked")
	busy, _ := fake.OpenIssue(repo, "bob", "Old and busy", "everyone wants it")
	for range 3 {
		if _, err := fake.Comment(repo, busy, "fan", "+1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fake.InstallApp("octo-org", repo); err != nil { // no webhook URL: nothing delivered
		t.Fatal(err)
	}
	dir := t.TempDir()
	setBotEnv(t, fake, gh.URL, dir)
	t.Setenv("TRIAGEBOT_DATA_DIR", filepath.Join(dir, "data"))

	code, out, errOut := runCmd(t, "backfill", repo)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	wantOut := repo + ": page 1: 2 open issues looked at, 2 labelled\n" + repo + ": done: 2 open issues looked at, 2 labelled\n"
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	want := map[int][]string{quiet: {"needs-triage"}, busy: {"needs-triage", "priority: low"}}
	for n, labels := range want {
		is, _ := fake.Issue(repo, n)
		if diff := cmp.Diff(labels, sorted(is.Labels)); diff != "" {
			t.Errorf("#%d labels (-want +got):\n%s", n, diff)
		}
		if len(is.Comments) != 3*boolInt(n == busy) {
			t.Errorf("#%d: %d comments: the backfill commented on history", n, len(is.Comments))
		}
	}

	code, out, errOut = runCmd(t, "backfill", repo)
	if code != 0 || out != repo+": backfilled before; nothing to do\n" {
		t.Fatalf("second run: exit %d, %q, %q", code, out, errOut)
	}

	// The lifecycle turned on later: the lifecycle walk gives the open issues their idle timers,
	// once.
	if err := fake.PutFile(repo, ".github/triagebot.yml", []byte("lifecycle:\n  enabled: true\n")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "backfill", repo)
	wantOut = repo + ": backfilled before; nothing to do\n" + repo + ": page 1: 2 open issues looked at, 2 given an idle timer\n" +
		repo + ": lifecycle: done: 2 open issues looked at, 2 given an idle timer\n"
	if diff := cmp.Diff(wantOut, out); code != 0 || diff != "" {
		t.Errorf("with the lifecycle on: exit %d, %s; output (-want +got):\n%s", code, errOut, diff)
	}
	code, out, errOut = runCmd(t, "backfill", repo)
	wantOut = repo + ": backfilled before; nothing to do\n" + repo + ": lifecycle: idle timers scheduled before; nothing to do\n"
	if diff := cmp.Diff(wantOut, out); code != 0 || diff != "" {
		t.Errorf("again: exit %d, %s; output (-want +got):\n%s", code, errOut, diff)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// On a terminal the progress is one line rewritten in place; elsewhere, a line per page.
func TestProgressLine(t *testing.T) {
	var pipe, tty bytes.Buffer
	for _, p := range []*progressLine{{w: &pipe}, {w: &tty, tty: true}} {
		p.update("page 1")
		p.update("page 2")
		p.done()
	}
	if got, want := pipe.String(), "page 1\npage 2\n"; got != want {
		t.Errorf("pipe: %q, want %q", got, want)
	}
	if got, want := tty.String(), "\r\x1b[2Kpage 1\r\x1b[2Kpage 2\n"; got != want {
		t.Errorf("terminal: %q, want %q", got, want)
	}
}
