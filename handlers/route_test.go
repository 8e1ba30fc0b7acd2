package handlers_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
)

type route struct {
	Installation, Repo int64
	Number             int
	Zen                string
	OK                 bool
}

func parseRouting(body []byte) route {
	i, r, n, z, err := handlers.ParseRouting(body)
	return route{i, r, n, z, err == nil}
}

// decodeRouting is what the receiver did before: a full encoding/json decode.
func decodeRouting(body []byte) route {
	var v struct {
		Zen          string
		Installation struct{ ID int64 }
		Repository   struct{ ID int64 }
		Issue        struct{ Number int }
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil || probe == nil || json.Unmarshal(body, &v) != nil {
		return route{}
	}
	return route{v.Installation.ID, v.Repository.ID, v.Issue.Number, v.Zen, true}
}

func TestParseRouting(t *testing.T) {
	tests := []struct {
		name string
		give string
		want route
	}{
		{"all fields, others skipped", `{"action":"opened","issue":{"id":9,"number":7,"labels":[{"id":3}]},"repository":{"name":"x","id":42,"owner":{"id":5}},"installation":{"id":1}}`, route{1, 42, 7, "", true}},
		{"ping's zen", `{"zen":"Keep it logically awesome.","hook_id":1}`, route{Zen: "Keep it logically awesome.", OK: true}},
		{"null objects and ids", `{"installation":null,"repository":{"id":null},"issue":null}`, route{OK: true}},
		{"an empty object", `{}`, route{OK: true}},
		{"surrounding whitespace", " \n{\"installation\":{\"id\":3}}\n", route{Installation: 3, OK: true}},
		{"not JSON", `Hello, World!`, route{}},
		{"an array", `["a"]`, route{}},
		{"null", `null`, route{}},
		{"truncated", `{"installation":{"id":1}`, route{}},
		{"broken JSON after the routing fields", `{"installation":{"id":1},"x":[1,}`, route{}},
		{"two objects", `{}{}`, route{}},
		{"an id that is a string", `{"installation":{"id":"1"}}`, route{}},
		{"an id that is a fraction", `{"repository":{"id":1.5}}`, route{}},
		{"an issue that is a string", `{"issue":"7"}`, route{}},
		{"zen that is a number", `{"zen":1}`, route{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseRouting([]byte(tt.give))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseRouting(%s) (-want +got):\n%s", tt.give, diff)
			}
			if diff := cmp.Diff(decodeRouting([]byte(tt.give)), got); diff != "" {
				t.Errorf("differs from encoding/json (-json +scan):\n%s", diff)
			}
		})
	}
}

// FuzzParseRouting checks the scanning reader against a full encoding/json decode, seeded with
// every real payload.
func FuzzParseRouting(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "webhooks", "*", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"issue":{"number":-1},"installation":{"id":9223372036854775807}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		want, got := decodeRouting(body), parseRouting(body)
		// encoding/json accepts duplicate names (the last wins, as here) and replaces invalid
		// UTF-8; it refuses numbers out of range as the scan does.
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("body %q (-json +scan):\n%s", body, diff)
		}
	})
}

func BenchmarkDecodeRoutingJSON(b *testing.B) {
	body, _ := os.ReadFile(filepath.Join("..", "testdata", "webhooks", "issues", "opened.json"))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v struct {
			Zen          string
			Installation struct{ ID int64 }
			Repository   struct{ ID int64 }
			Issue        struct{ Number int }
		}
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}
