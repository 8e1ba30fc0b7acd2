package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
