package ghapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/triagebot/triagebot/rules"

	"github.com/triagebot/triagebot/queue"
)

type fakeComment struct {
	ID    int64  `json:"id"`
	Body  string `json:"body"`
	Login string `json:"-"`
	Type  string `json:"-"`
}

// fakeIssue is the state of issue o/r#1 as the test server keeps it.
type fakeIssue struct {
	mu         *sync.Mutex
	labels     []string
	comments   []fakeComment
	reactions  map[int64][]string
	assignees  []string
	state      string
	reason     string
	repoLabels []string
	nextID     int64
	fail       map[string]func(w http.ResponseWriter) // "METHOD path pattern" → a one-off answer
}

func (f *fakeIssue) failOnce(pattern string, w http.ResponseWriter) bool {
	f.mu.Lock()
	h, ok := f.fail[pattern]
	delete(f.fail, pattern)
	f.mu.Unlock()
	if ok {
		h(w)
	}
	return ok
}

func (f *fakeIssue) commentJSON(c fakeComment) map[string]any {
	return map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Login, "type": c.Type}}
}

func (f *fakeIssue) register(g *ghServer) {
	f.mu = &sync.Mutex{}
	wrap := func(pattern string, h func(w http.ResponseWriter, r *http.Request)) {
		g.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
			if f.failOnce(pattern, w) {
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			h(w, r)
		})
	}
	wrap("GET /repos/o/r/issues/1/comments", func(w http.ResponseWriter, r *http.Request) {
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per == 0 {
			per = 30
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		lo, hi := min((page-1)*per, len(f.comments)), min(page*per, len(f.comments))
		if hi < len(f.comments) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/repos/o/r/issues/1/comments?per_page=%d&page=%d>; rel="next"`, g.baseURL(), per, page+1))
		}
		out := []any{}
		for _, c := range f.comments[lo:hi] {
			out = append(out, f.commentJSON(c))
		}
		writeJSON(w, 200, out)
	})
	wrap("POST /repos/o/r/issues/1/comments", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.nextID++
		c := fakeComment{ID: 1000 + f.nextID, Body: in.Body, Login: "triagebot[bot]", Type: "Bot"}
		f.comments = append(f.comments, c)
		writeJSON(w, 201, f.commentJSON(c))
	})
	wrap("PATCH /repos/o/r/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		for i := range f.comments {
			if f.comments[i].ID == id {
				f.comments[i].Body = in.Body
				writeJSON(w, 200, f.commentJSON(f.comments[i]))
				return
			}
		}
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	})
	wrap("POST /repos/o/r/issues/comments/{id}/reactions", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if slices.Contains(f.reactions[id], in.Content) {
			writeJSON(w, 200, map[string]any{"id": 1, "content": in.Content})
			return
		}
		if f.reactions == nil {
			f.reactions = map[int64][]string{}
		}
		f.reactions[id] = append(f.reactions[id], in.Content)
		writeJSON(w, 201, map[string]any{"id": 1, "content": in.Content})
	})
	labelsJSON := func() []any {
		out := []any{}
		for _, l := range f.labels {
			out = append(out, map[string]any{"name": l})
		}
		return out
	}
	wrap("POST /repos/o/r/issues/1/labels", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Labels []string `json:"labels"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Labels) == 0 {
			writeJSON(w, 422, map[string]any{"message": "Invalid request"})
			return
		}
		for _, l := range in.Labels {
			if !slices.Contains(f.labels, l) {
				f.labels = append(f.labels, l)
			}
		}
		writeJSON(w, 200, labelsJSON())
	})
	wrap("DELETE /repos/o/r/issues/1/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		i := slices.Index(f.labels, r.PathValue("name"))
		if i < 0 {
			writeJSON(w, 404, map[string]any{"message": "Label does not exist"})
			return
		}
		f.labels = slices.Delete(f.labels, i, i+1)
		writeJSON(w, 200, labelsJSON())
	})
	wrap("POST /repos/o/r/issues/1/assignees", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Assignees []string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		for _, a := range in.Assignees {
			if !slices.Contains(f.assignees, a) {
				f.assignees = append(f.assignees, a)
			}
		}
		writeJSON(w, 201, map[string]any{"number": 1})
	})
	wrap("DELETE /repos/o/r/issues/1/assignees", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Assignees []string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.assignees = slices.DeleteFunc(f.assignees, func(a string) bool { return slices.Contains(in.Assignees, a) })
		writeJSON(w, 200, map[string]any{"number": 1})
	})
	wrap("PATCH /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			State       string `json:"state"`
			StateReason string `json:"state_reason"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.state, f.reason = in.State, in.StateReason
		writeJSON(w, 200, map[string]any{"number": 1, "state": in.State})
	})
	wrap("GET /repos/o/r/labels", func(w http.ResponseWriter, r *http.Request) {
		out := []any{}
		for _, l := range f.repoLabels {
			out = append(out, map[string]any{"name": l})
		}
		writeJSON(w, 200, out)
	})
	wrap("POST /repos/o/r/labels", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name, Color, Description string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.repoLabels = append(f.repoLabels, in.Name+" #"+in.Color+" "+in.Description)
		writeJSON(w, 201, map[string]any{"name": in.Name})
	})
}

var target = rules.Target{DeliveryID: "d-1", Event: "issues", InstallationID: 5, RepoID: 77, Owner: "o", Name: "r", Number: 1}

func act(a rules.Action) rules.Action {
	a.Repo, a.Number = "o/r", 1
	if a.Rule == "" {
		a.Rule = "needs-triage"
	}
	return a
}

func marked(rule, key, body string) string { return CommentBody(Marker(rule, key), body) }

func TestExecutorIsIdempotent(t *testing.T) {
	welcome := act(rules.Action{Rule: "code-of-conduct", Type: rules.Comment, Key: "welcome", Body: "Welcome!"})
	tests := []struct {
		name         string
		give         fakeIssue
		actions      []rules.Action
		want         []rules.Result
		wantCalls    []string
		wantLabels   []string
		wantComments []fakeComment
	}{
		{
			name:       "label already present",
			give:       fakeIssue{labels: []string{"needs-triage"}},
			actions:    []rules.Action{act(rules.Action{Type: rules.AddLabels, Labels: []string{"needs-triage"}})},
			want:       []rules.Result{{Status: rules.StatusDone}},
			wantCalls:  []string{"POST /repos/o/r/issues/1/labels"},
			wantLabels: []string{"needs-triage"},
		},
		{
			name:       "label already gone",
			give:       fakeIssue{labels: []string{"bug"}},
			actions:    []rules.Action{act(rules.Action{Type: rules.RemoveLabel, Label: "needs-triage"})},
			want:       []rules.Result{{Status: rules.StatusSkipped, Detail: "label was not on the issue"}},
			wantCalls:  []string{"DELETE /repos/o/r/issues/1/labels/needs-triage"},
			wantLabels: []string{"bug"},
		},
		{
			name:       "label name escaped",
			give:       fakeIssue{labels: []string{"area/ui", "priority: high"}},
			actions:    []rules.Action{act(rules.Action{Type: rules.RemoveLabel, Label: "area/ui"}), act(rules.Action{Type: rules.RemoveLabel, Label: "priority: high"})},
			want:       []rules.Result{{Status: rules.StatusDone}, {Status: rules.StatusDone}},
			wantCalls:  []string{"DELETE /repos/o/r/issues/1/labels/area%2Fui", "DELETE /repos/o/r/issues/1/labels/priority:%20high"},
			wantLabels: []string{},
		},
		{
			name:         "keyed comment created",
			actions:      []rules.Action{welcome},
			want:         []rules.Result{{Status: rules.StatusDone, Detail: "created", CommentID: 1001}},
			wantCalls:    []string{"GET /repos/o/r/issues/1/comments", "POST /repos/o/r/issues/1/comments"},
			wantComments: []fakeComment{{ID: 1001, Body: marked("code-of-conduct", "welcome", "Welcome!"), Login: "triagebot[bot]", Type: "Bot"}},
		},
		{
			name:         "keyed comment edited in place",
			give:         fakeIssue{comments: []fakeComment{{ID: 7, Body: marked("code-of-conduct", "welcome", "Old text"), Login: "triagebot[bot]", Type: "Bot"}}},
			actions:      []rules.Action{welcome},
			want:         []rules.Result{{Status: rules.StatusDone, Detail: "edited", CommentID: 7}},
			wantCalls:    []string{"GET /repos/o/r/issues/1/comments", "PATCH /repos/o/r/issues/comments/7"},
			wantComments: []fakeComment{{ID: 7, Body: marked("code-of-conduct", "welcome", "Welcome!"), Login: "triagebot[bot]", Type: "Bot"}},
		},
		{
			name:         "keyed comment identical",
			give:         fakeIssue{comments: []fakeComment{{ID: 7, Body: strings.ReplaceAll(marked("code-of-conduct", "welcome", "Welcome!"), "\n", "\r\n") + "\n", Login: "triagebot[bot]", Type: "Bot"}}},
			actions:      []rules.Action{welcome},
			want:         []rules.Result{{Status: rules.StatusSkipped, Detail: "comment already posted", CommentID: 7}},
			wantCalls:    []string{"GET /repos/o/r/issues/1/comments"},
			wantComments: []fakeComment{{ID: 7, Body: strings.ReplaceAll(marked("code-of-conduct", "welcome", "Welcome!"), "\n", "\r\n") + "\n", Login: "triagebot[bot]", Type: "Bot"}},
		},
		{
			name:      "a human quoting the marker is not edited",
			give:      fakeIssue{comments: []fakeComment{{ID: 7, Body: "> " + marked("code-of-conduct", "welcome", "x"), Login: "alice", Type: "User"}}},
			actions:   []rules.Action{welcome},
			want:      []rules.Result{{Status: rules.StatusDone, Detail: "created", CommentID: 1001}},
			wantCalls: []string{"GET /repos/o/r/issues/1/comments", "POST /repos/o/r/issues/1/comments"},
			wantComments: []fakeComment{
				{ID: 7, Body: "> " + marked("code-of-conduct", "welcome", "x"), Login: "alice", Type: "User"},
				{ID: 1001, Body: marked("code-of-conduct", "welcome", "Welcome!"), Login: "triagebot[bot]", Type: "Bot"},
			},
		},
		{
			name:    "comments listed once per Execute; a key repeated edits the comment just made",
			actions: []rules.Action{welcome, act(rules.Action{Rule: "code-of-conduct", Type: rules.Comment, Key: "welcome", Body: "Welcome again!"})},
			want: []rules.Result{
				{Status: rules.StatusDone, Detail: "created", CommentID: 1001},
				{Status: rules.StatusDone, Detail: "edited", CommentID: 1001},
			},
			wantCalls:    []string{"GET /repos/o/r/issues/1/comments", "POST /repos/o/r/issues/1/comments", "PATCH /repos/o/r/issues/comments/1001"},
			wantComments: []fakeComment{{ID: 1001, Body: marked("code-of-conduct", "welcome", "Welcome again!"), Login: "triagebot[bot]", Type: "Bot"}},
		},
		{
			name: "reactions",
			give: fakeIssue{reactions: map[int64][]string{9: {"eyes"}}},
			actions: []rules.Action{
				act(rules.Action{Type: rules.React, CommentID: 9, Content: "eyes"}),
				act(rules.Action{Type: rules.React, CommentID: 9, Content: "+1"}),
				act(rules.Action{Type: rules.React, CommentID: 0, Content: "+1"}),
			},
			want: []rules.Result{
				{Status: rules.StatusSkipped, Detail: "reaction already there"},
				{Status: rules.StatusDone},
				{Status: rules.StatusSkipped, Detail: "reactions on the issue itself are not supported"},
			},
			wantCalls: []string{"POST /repos/o/r/issues/comments/9/reactions", "POST /repos/o/r/issues/comments/9/reactions"},
		},
		{
			name: "assign, unassign, close, reopen, notify",
			give: fakeIssue{assignees: []string{"bob"}},
			actions: []rules.Action{
				act(rules.Action{Type: rules.Assign, Assignees: []string{"alice"}}),
				act(rules.Action{Type: rules.Unassign, Assignees: []string{"bob"}}),
				act(rules.Action{Type: rules.Close, StateReason: "not_planned"}),
				act(rules.Action{Type: rules.Reopen}),
				act(rules.Action{Type: rules.Notify, Channel: "issue_opened", Text: "hi"}),
			},
			want: []rules.Result{
				{Status: rules.StatusDone}, {Status: rules.StatusDone}, {Status: rules.StatusDone}, {Status: rules.StatusDone},
				{Status: rules.StatusSkipped, Detail: "handled by notifications"},
			},
			wantCalls: []string{"POST /repos/o/r/issues/1/assignees", "DELETE /repos/o/r/issues/1/assignees",
				"PATCH /repos/o/r/issues/1", "PATCH /repos/o/r/issues/1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			f := &tt.give
			f.register(g)
			a, _ := newTestApp(t, g)
			got, err := NewExecutor(a, nil).Execute(context.Background(), target, tt.actions)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			for i := range tt.want {
				tt.want[i].Action = tt.actions[i]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, g.calls()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantLabels != nil {
				if diff := cmp.Diff(tt.wantLabels, f.labels, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("labels (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantComments, f.comments, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		})
	}
}

// The process may die between posting and acknowledging: the retried event finds the comment.
// Comments without a key get one from the delivery, so they are not posted twice either.
func TestRetriedEventNeverPostsTwice(t *testing.T) {
	g := newGHServer(t)
	f := &fakeIssue{}
	// Many comments, so the bot's is on a later page.
	for i := range 150 {
		f.comments = append(f.comments, fakeComment{ID: int64(i + 1), Body: "me too", Login: "u", Type: "User"})
	}
	f.register(g)
	a, _ := newTestApp(t, g)
	e := NewExecutor(a, nil)
	actions := []rules.Action{
		act(rules.Action{Rule: "priority", Type: rules.Comment, Key: "level", Body: "Priority: high"}),
		act(rules.Action{Rule: "commands", Type: rules.Comment, Body: "Here is the help."}),
	}
	for attempt := range 3 {
		results, err := e.Execute(context.Background(), target, actions)
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		want := rules.StatusDone
		if attempt > 0 {
			want = rules.StatusSkipped
		}
		for _, r := range results {
			if r.Status != want {
				t.Errorf("attempt %d: %s comment %s (%s), want %s", attempt, r.Action.Rule, r.Status, r.Detail, want)
			}
		}
	}
	if n := len(f.comments); n != 152 {
		t.Errorf("comments = %d, want 152 (each bot comment once)", n)
	}
	var posts int
	for _, c := range g.calls() {
		if c == "POST /repos/o/r/issues/1/comments" {
			posts++
		}
	}
	if posts != 2 {
		t.Errorf("comments posted %d times, want 2", posts)
	}
	// Another delivery with the same unkeyed text is a new comment.
	other := target
	other.DeliveryID = "d-2"
	if _, err := e.Execute(context.Background(), other, actions[1:]); err != nil {
		t.Fatal(err)
	}
	if n := len(f.comments); n != 153 {
		t.Errorf("comments = %d, want 153 after another delivery's help", n)
	}
}

func TestExecutorClassifiesFailures(t *testing.T) {
	labels := act(rules.Action{Type: rules.AddLabels, Labels: []string{"x"}})
	remove := act(rules.Action{Type: rules.RemoveLabel, Label: "y"})
	tests := []struct {
		name          string
		fail          func(w http.ResponseWriter)
		wantPermanent bool
		wantRetry     time.Duration
		wantSecond    rules.Status
	}{
		{name: "422", fail: answer(422, nil, `{"message":"Validation Failed"}`), wantPermanent: true, wantSecond: rules.StatusSkipped},
		{name: "502", fail: answer(502, nil, `{"message":"Bad Gateway"}`), wantSecond: rules.StatusSkipped},
		{name: "403 forbidden", fail: answer(403, nil, `{"message":"Resource not accessible by integration"}`), wantPermanent: true, wantSecond: rules.StatusSkipped},
		{name: "rate limited", fail: answer(429, map[string]string{"Retry-After": "3600"}, `{}`), wantRetry: time.Hour, wantSecond: rules.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			f := &fakeIssue{fail: map[string]func(http.ResponseWriter){"POST /repos/o/r/issues/1/labels": tt.fail}}
			f.register(g)
			a, _ := newTestApp(t, g)
			results, err := NewExecutor(a, nil).Execute(context.Background(), target, []rules.Action{labels, remove})
			if err == nil {
				t.Fatal("Execute succeeded, want an error")
			}
			if queue.IsPermanent(err) != tt.wantPermanent {
				t.Errorf("queue.IsPermanent(%v) = %v, want %v", err, queue.IsPermanent(err), tt.wantPermanent)
			}
			if d, _ := queue.RetryAfter(err); d != tt.wantRetry {
				t.Errorf("RetryAfter = %s, want %s", d, tt.wantRetry)
			}
			if len(results) != 2 || results[0].Status != rules.StatusFailed || results[0].Detail == "" {
				t.Fatalf("results = %+v, want the first failed with a detail", results)
			}
			if results[1].Status != tt.wantSecond {
				t.Errorf("second action %s (%s), want %s", results[1].Status, results[1].Detail, tt.wantSecond)
			}
		})
	}
}

func TestEnsureLabels(t *testing.T) {
	g := newGHServer(t)
	f := &fakeIssue{repoLabels: []string{"Needs-Triage", "bug"}}
	f.fail = map[string]func(http.ResponseWriter){
		// Someone created it between the list and the create.
		"POST /repos/o/r/labels": answer(422, nil, `{"message":"Validation Failed","errors":[{"resource":"Label","code":"already_exists","field":"name"}]}`),
	}
	f.register(g)
	a, _ := newTestApp(t, g)
	specs := LabelSpecs(rules.DefaultConfig())
	if _, err := NewExecutor(a, nil).EnsureLabels(context.Background(), 5, "o", "r", specs); err != nil {
		t.Fatal(err)
	}
	want := []string{"Needs-Triage", "bug",
		"priority: medium #d93f0b Priority by community interest (score 10 or more)",
		"priority: low #0e8a16 Priority by community interest (score 3 or more)"}
	if diff := cmp.Diff(want, f.repoLabels); diff != "" {
		t.Errorf("repository labels (-want +got):\n%s", diff)
	}
	wantCalls := []string{"GET /repos/o/r/labels", "POST /repos/o/r/labels", "POST /repos/o/r/labels", "POST /repos/o/r/labels"}
	if diff := cmp.Diff(wantCalls, g.calls()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestLabelSpecs(t *testing.T) {
	cfg := rules.DefaultConfig()
	got := LabelSpecs(cfg)
	want := []LabelSpec{
		{Name: "needs-triage", Color: "fbca04", Description: "Waiting for a maintainer to triage this issue"},
		{Name: "priority: high", Color: "b60205", Description: "Priority by community interest (score 20 or more)"},
		{Name: "priority: medium", Color: "d93f0b", Description: "Priority by community interest (score 10 or more)"},
		{Name: "priority: low", Color: "0e8a16", Description: "Priority by community interest (score 3 or more)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LabelSpecs (-want +got):\n%s", diff)
	}
	cfg.NeedsTriage.Enabled, cfg.Priority.Enabled = false, false
	if got := LabelSpecs(cfg); len(got) != 0 {
		t.Errorf("LabelSpecs with the rules off = %v", got)
	}
}

func TestMarker(t *testing.T) {
	tests := []struct{ rule, key, want string }{
		{"needs-triage", "welcome", "<!-- triagebot:needs-triage:welcome -->"},
		{"a:b", "k:1", "<!-- triagebot:a_b:k:1 -->"},
		{"r", "evil-->\n<script>", "<!-- triagebot:r:evil--_ <script_ -->"},
	}
	for _, tt := range tests {
		if got := Marker(tt.rule, tt.key); got != tt.want {
			t.Errorf("Marker(%q, %q) = %q, want %q", tt.rule, tt.key, got, tt.want)
		}
	}
}

// Workers run Execute concurrently, one event per issue at a time but many installations.
func TestExecuteConcurrently(t *testing.T) {
	g := newGHServer(t)
	f := &fakeIssue{}
	f.register(g)
	a, _ := newTestApp(t, g, WithWriteRate(6000, 100))
	e := NewExecutor(a, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg := target
			tg.InstallationID = int64(1 + i%3)
			_, err := e.Execute(context.Background(), tg, []rules.Action{
				act(rules.Action{Type: rules.AddLabels, Labels: []string{fmt.Sprintf("l%d", i)}}),
				act(rules.Action{Type: rules.RemoveLabel, Label: "absent"}),
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(f.labels) != 8 {
		t.Errorf("labels = %v, want 8", f.labels)
	}
}

// Without a delivery id (no retry to recognise) an unkeyed comment is posted without a read.
func TestUnkeyedCommentWithoutDelivery(t *testing.T) {
	g := newGHServer(t)
	f := &fakeIssue{}
	f.register(g)
	a, _ := newTestApp(t, g)
	tg := target
	tg.DeliveryID = ""
	got, err := NewExecutor(a, nil).Execute(context.Background(), tg, []rules.Action{act(rules.Action{Rule: "commands", Type: rules.Comment, Body: "hi"})})
	if err != nil || len(got) != 1 || got[0].Status != rules.StatusDone {
		t.Fatalf("Execute = %+v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"POST /repos/o/r/issues/1/comments"}, g.calls()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if f.comments[0].Body != marked("commands", "unkeyed", "hi") {
		t.Errorf("body = %q", f.comments[0].Body)
	}
}
