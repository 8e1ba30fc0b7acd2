package handlers_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/handlers"
)

// ParsePayload decodes what go-github's ParseWebHook decodes, to the same values, and refuses
// what it refuses.
func TestParsePayloadAgreesWithGoGitHub(t *testing.T) {
	type give struct{ event, body string }
	var cases []give
	root := filepath.Join("..", "testdata", "webhooks")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		cases = append(cases, give{event: filepath.Dir(rel), body: string(payload(t, rel))})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("found %d payloads under %s", len(cases), root)
	}
	cases = append(cases,
		give{"issues", `{"action":"opened","issue":{"number":"one"}}`},
		give{"issues", `{"action":"opened","issue":{"number":1,"created_at":"yesterday"}}`},
		give{"issues", `{"action":"opened"`},
		give{"issues", `[]`},
		give{"issues", `null`},
		give{"issues", `{"ACTION":"opened","Issue":{"NUMBER":7}}`},
		give{"issues", `{"action":"opened","action":"closed"}`},
		give{"issues", "{\"action\":\"op\xffened\"}"},
		give{"issue_comment", `{"comment":{"body":"\ud83d\ude00 \u0000"}}`},
		give{"no_such_event", `{}`},
	)
	for _, tc := range cases {
		want, wantErr := github.ParseWebHook(tc.event, []byte(tc.body))
		got, err := handlers.ParsePayload(tc.event, []byte(tc.body))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s %.60q: error %v, go-github's %v", tc.event, tc.body, err, wantErr)
			continue
		}
		if err == nil {
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s %.60q (-go-github +ParsePayload):\n%s", tc.event, tc.body, d)
			}
		}
	}
}

// FuzzParsePayload: on any body, ParsePayload and go-github agree on success and on the value.
//
//	go test -run '^$' -fuzz FuzzParsePayload -fuzztime 30s ./handlers/
func FuzzParsePayload(f *testing.F) {
	for _, p := range []string{"issues/opened.json", "issue_comment/created.json", "push/payload.json", "installation/created.json"} {
		f.Add(filepath.Dir(p), payload(f, p))
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		want, wantErr := github.ParseWebHook(event, body)
		got, err := handlers.ParsePayload(event, body)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, go-github's %v", err, wantErr)
		}
		if d := cmp.Diff(want, got); err == nil && d != "" {
			t.Fatalf("(-go-github +ParsePayload):\n%s", d)
		}
	})
}
