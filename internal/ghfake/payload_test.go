package ghfake

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPayloadKeysMatchGitHubExamples compares the keys of every kind of webhook the fake sends
// with GitHub's own example payloads in testdata/webhooks (two levels deep).
func TestPayloadKeysMatchGitHubExamples(t *testing.T) {
	f := newHookFixture(t)
	fake, ctx, repo := f.fake, testCtx(t), "octo/hello"
	n := must[int](t)(fake.OpenIssue(repo, "alice", "t", "b", "bug"))
	c := must[int64](t)(fake.Comment(repo, n, "bob", "x"))
	for _, err := range []error{
		fake.EditComment(repo, c, "bob", "y"), fake.DeleteComment(repo, c, "bob"), fake.RemoveLabel(repo, n, "bob", "bug"),
		fake.EditIssue(repo, n, "bob", "t2", "b2"), fake.CloseIssue(repo, n, "bob", ""), fake.ReopenIssue(repo, n, "bob"),
		fake.PutFile(repo, "a.txt", []byte("x")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	id := must[int64](t)(fake.InstallApp("acme", "acme/x"))
	if err := fake.AddRepository(id, "acme/y"); err != nil {
		t.Fatal(err)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Keys of GitHub's examples the fake does not send: "draft" belongs to pull requests,
	// "organization" is only sent for organisation-owned repositories with an org account,
	// timeline_url and the push repository's stargazers count are not modelled.
	allowed := map[string]bool{"issue.draft": true, "issue.timeline_url": true, "organization": true,
		"repository.stargazers": true, "repository.contents_url": true, "repository.issues_url": true,
		"repository.labels_url": true, "repository.open_issues": true, "repository.open_issues_count": true,
		"repository.visibility": true}
	got := map[string][]string{}
	for _, d := range fake.Deliveries() {
		name := d.Action
		if name == "" {
			name = "payload"
		}
		example, err := os.ReadFile("../../testdata/webhooks/" + d.Event + "/" + name + ".json")
		if err != nil {
			t.Fatalf("no GitHub example for %s.%s: %v", d.Event, name, err)
		}
		var real, ours map[string]any
		if err := json.Unmarshal(example, &real); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(d.Payload, &ours); err != nil {
			t.Fatal(err)
		}
		for _, k := range missingKeys("", real, ours, 0) {
			if !allowed[k] {
				got[d.Event+"."+name] = append(got[d.Event+"."+name], k)
			}
		}
	}
	if diff := cmp.Diff(map[string][]string{}, got); diff != "" {
		t.Errorf("keys GitHub sends that the fake does not (-want +got):\n%s", diff)
	}
}

func missingKeys(prefix string, real, ours map[string]any, depth int) []string {
	var out []string
	for k, v := range real {
		ov, ok := ours[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		rm, rok := v.(map[string]any)
		om, ook := ov.(map[string]any)
		if rok && ook && depth < 1 {
			out = append(out, missingKeys(prefix+k+".", rm, om, depth+1)...)
		}
	}
	sort.Strings(out)
	return out
}
