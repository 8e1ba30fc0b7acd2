package ghapp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/rules"
)

// repoLabels serves a repository's labels: list, create, update.
type repoLabels struct {
	mu     sync.Mutex
	labels []map[string]string // name, color, description
}

func (f *repoLabels) register(g *ghServer) {
	g.handle("GET /repos/o/r/labels", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, 200, f.labels)
	})
	g.handle("POST /repos/o/r/labels", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.labels = append(f.labels, in)
		writeJSON(w, 201, in)
	})
	g.handle("PATCH /repos/o/r/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, l := range f.labels {
			if strings.EqualFold(l["name"], r.PathValue("name")) {
				for k, v := range in {
					l[k] = v
				}
				writeJSON(w, 200, l)
				return
			}
		}
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
	})
}

func TestEnsureLabelsCreatesUpdatesAndAdopts(t *testing.T) {
	withLabels := func(yml string) rules.Config {
		cfg, err := rules.ParseConfig(rules.DefaultConfig(), []byte(yml))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	tests := []struct {
		name    string
		have    []map[string]string
		cfg     rules.Config
		want    []map[string]string
		wantRes LabelSync
	}{
		{
			name: "a repository using `needs triage` and `S: Priority: High`: adopted, not doubled",
			have: []map[string]string{{"name": "needs triage", "color": "ededed"}, {"name": "S: Priority: High", "color": "000000"}},
			cfg:  withLabels("priority: {levels: [{label: 'priority: high', at: 5}, {label: 'priority low', at: 2}]}\n"),
			want: []map[string]string{{"name": "needs triage", "color": "ededed"}, {"name": "S: Priority: High", "color": "000000"},
				{"name": "priority low", "color": "d93f0b", "description": "Priority by community interest (score 2 or more)"}},
			wantRes: LabelSync{Created: []string{"priority low"}, Adopted: map[string]string{"needs-triage": "needs triage", "priority: high": "S: Priority: High"}},
		},
		{
			name: "the labels: section updates colours and descriptions; others are left as made",
			have: []map[string]string{{"name": "Needs-Triage", "color": "ededed"}, {"name": "priority: high", "color": "000000"}, {"name": "old"}},
			cfg:  withLabels("labels:\n  - {name: needs-triage, color: '#5319e7', description: To look at}\n  - {name: good first issue, color: 7057ff}\n"),
			want: []map[string]string{{"name": "Needs-Triage", "color": "5319e7", "description": "To look at"}, {"name": "priority: high", "color": "000000"}, {"name": "old"},
				{"name": "priority: medium", "color": "d93f0b", "description": "Priority by community interest (score 10 or more)"},
				{"name": "priority: low", "color": "0e8a16", "description": "Priority by community interest (score 3 or more)"},
				{"name": "good first issue", "color": "7057ff"}},
			wantRes: LabelSync{Created: []string{"priority: medium", "priority: low", "good first issue"}, Updated: []string{"Needs-Triage"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			f := &repoLabels{labels: tt.have}
			f.register(g)
			a, _ := newTestApp(t, g)
			got, err := NewExecutor(a, nil).EnsureLabels(context.Background(), 5, "o", "r", LabelSpecs(tt.cfg))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRes, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, f.labels); diff != "" {
				t.Errorf("repository labels (-want +got):\n%s", diff)
			}
		})
	}
}

// The needs-triage label and every priority level have distinct colours by default.
func TestDefaultLabelColoursAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, s := range LabelSpecs(rules.DefaultConfig()) {
		if other, dup := seen[s.Color]; dup {
			t.Errorf("%q and %q share the colour %s", s.Name, other, s.Color)
		}
		seen[s.Color] = s.Name
	}
}
