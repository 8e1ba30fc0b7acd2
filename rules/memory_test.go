package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRepoMemoryRebaseKeepsBothWorkersAdditions(t *testing.T) {
	before := RepoMemory{Authors: []string{"alice"}}
	mine := RepoMemory{Authors: []string{"alice", "bob"}}
	theirs := RepoMemory{Authors: []string{"alice", "carol"}}
	got := mine.Rebase(before, theirs)
	if diff := cmp.Diff(RepoMemory{Authors: []string{"alice", "carol", "bob"}}, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alice", "carol"}, theirs.Authors); diff != "" {
		t.Fatalf("current was modified:\n%s", diff)
	}
	if got := before.Rebase(before, theirs); !cmp.Equal(got, theirs) {
		t.Fatalf("no change should give current back, got %v", got)
	}
}
