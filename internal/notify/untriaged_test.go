package notify

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDue(t *testing.T) {
	opened := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		opened time.Time
		after  time.Duration
		now    time.Time
		want   bool
	}{
		{"before", opened, 72 * time.Hour, opened.Add(71 * time.Hour), false},
		{"exactly", opened, 72 * time.Hour, opened.Add(72 * time.Hour), true},
		{"after", opened, 72 * time.Hour, opened.Add(100 * time.Hour), true},
		{"unknown opening is left to the sweep", time.Time{}, time.Hour, opened, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Due(tt.opened, tt.after, tt.now); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUntriagedNotification(t *testing.T) {
	opened := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	now := opened.Add(80 * time.Hour)
	issues := []UntriagedIssue{
		{Repo: "octo/repo", Number: 1, Title: "old", URL: "https://github.com/octo/repo/issues/1", OpenedAt: opened, Label: "needs-triage"},
		{Repo: "octo/repo", Number: 2, Title: "new", OpenedAt: now.Add(-time.Hour), Label: "needs-triage"},
	}
	due := DueIssues(issues, 72*time.Hour, now)
	if len(due) != 1 || due[0].Number != 1 {
		t.Fatalf("due = %+v, want issue 1 only", due)
	}
	got := UntriagedNotification(due[0], "ops", 72*time.Hour, now)
	want := Notification{
		ID: "untriaged:octo/repo#1:ops", Channel: "ops", Route: "untriaged", Repo: "octo/repo", Number: 1,
		Title: "old", URL: "https://github.com/octo/repo/issues/1", Event: "untriaged for 3.3 days",
		Reason: `still labelled "needs-triage" more than 3 days after it was opened`, At: now,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
}

func TestUntriagedNotificationOfAShortRoute(t *testing.T) {
	opened := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	is := UntriagedIssue{Repo: "octo/repo", Number: 3, OpenedAt: opened, Label: "needs-triage"}
	got := UntriagedNotification(is, "ops", 30*time.Minute, opened.Add(47*time.Minute+20*time.Second))
	if got.Event != "untriaged for 47 minutes" || got.Reason != `still labelled "needs-triage" more than 30 minutes after it was opened` {
		t.Fatalf("event %q, reason %q", got.Event, got.Reason)
	}
}
