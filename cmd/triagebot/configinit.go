package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"
)

// configInitCmd writes a starter .github/triagebot.yml.
type configInitCmd struct {
	From   string `placeholder:"OWNER/REPO" help:"Propose the needs-triage label and the labels issue templates apply, from this repository (needs the App's credentials and the App installed there)."`
	Output string `short:"o" default:".github/triagebot.yml" placeholder:"FILE" help:"Where to write it; - writes to standard output."`
	Force  bool   `help:"Replace an existing file."`
	githubSettings
}

func (c *configInitCmd) Help() string {
	return "Writes a .github/triagebot.yml with every key at its default, commented out, to uncomment and change. With --from it reads the repository's labels and issue templates and proposes, uncommented, the needs-triage label the repository already uses and the labels its templates apply, which do not count as triage."
}

func (c *configInitCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	var p *proposal
	if c.From != "" {
		if err := checkSettings(kctx, &c.githubSettings); err != nil {
			return err
		}
		owner, repo, ok := strings.Cut(c.From, "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			return withExit(2, fmt.Errorf("--from: %q is not OWNER/REPO", c.From))
		}
		var err error
		if p, err = c.propose(ctx, owner, repo); err != nil {
			return withExit(1, fmt.Errorf("config init --from %s: %w", c.From, err))
		}
	}
	text := starterConfig(p)
	if c.Output == "-" {
		_, err := fmt.Fprint(o.stdout, text)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Output), 0o755); err != nil {
		return withExit(1, fmt.Errorf("config init: %w", err))
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if c.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(c.Output, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return withExit(1, fmt.Errorf("config init: %s exists; --force replaces it", c.Output))
	}
	if err != nil {
		return withExit(1, fmt.Errorf("config init: %w", err))
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return withExit(1, fmt.Errorf("config init: %w", err))
	}
	if err := f.Close(); err != nil {
		return withExit(1, fmt.Errorf("config init: %w", err))
	}
	fmt.Fprintf(o.stdout, "wrote %s\n", c.Output)
	if p != nil {
		for _, l := range p.notes() {
			fmt.Fprintln(o.stdout, "  "+l)
		}
	}
	fmt.Fprintf(o.stdout, "Check it with 'triagebot config validate %s', then commit it on the default branch.\n", c.Output)
	return nil
}

// proposal is what a repository's labels and issue templates suggest.
type proposal struct {
	repo      string
	label     string   // the repository's needs-triage label ("" when it has none)
	templates []string // labels its issue templates apply, besides the needs-triage label
	files     int      // issue templates read
}

func (p *proposal) notes() []string {
	var out []string
	if p.label != "" {
		out = append(out, fmt.Sprintf("needs-triage label: %q, which %s already uses", p.label, p.repo))
	} else {
		out = append(out, fmt.Sprintf("%s has no needs-triage label yet: the default %q will be created", p.repo, "needs-triage"))
	}
	if len(p.templates) > 0 {
		out = append(out, fmt.Sprintf("labels its %d issue templates apply, which do not count as triage: %s", p.files, quoteAll(p.templates)))
	} else {
		out = append(out, fmt.Sprintf("its %d issue templates apply no other label", p.files))
	}
	return out
}

// triageLabel recognises the usual names of a needs-triage label.
var triageLabel = regexp.MustCompile(`(?i)^(status[:/ ]\s*)?(needs?[-_ ]?triage|triage[-_ :/]?(needed|required|pending)|untriaged|awaiting[-_ ]triage|to[-_ ]triage)$`)

// propose reads the repository's labels and issue templates through the App.
func (c *configInitCmd) propose(ctx context.Context, owner, repo string) (*proposal, error) {
	s := settings{githubSettings: c.githubSettings}
	app, err := newApp(s, zap.NewNop(), startOptions{})
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, errors.New("needs the App's credentials: TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE (see 'triagebot setup')")
	}
	defer app.Close()
	inst, _, err := app.AppClient().Apps.FindRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("the App is not installed on %s/%s: %w", owner, repo, err)
	}
	gh := app.Installation(inst.GetID())
	var labels []string
	opt := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.Issues.ListLabels(ctx, owner, repo, opt)
		if err != nil {
			return nil, fmt.Errorf("list labels: %w", err)
		}
		for _, l := range page {
			labels = append(labels, l.GetName())
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	applied, files, err := templateLabels(ctx, gh, owner, repo)
	if err != nil {
		return nil, err
	}
	p := &proposal{repo: owner + "/" + repo, files: files}
	// The repository's own needs-triage label: preferably one its templates apply.
	for _, l := range append(slices.Clone(applied), labels...) {
		if triageLabel.MatchString(l) {
			p.label = l
			break
		}
	}
	for _, l := range applied {
		if !strings.EqualFold(l, p.label) && !matchesAny(l, "priority: .*") && !slices.Contains(p.templates, l) {
			p.templates = append(p.templates, l)
		}
	}
	return p, nil
}

// templateLabels are the labels the repository's issue templates apply, in the order met.
func templateLabels(ctx context.Context, gh *github.Client, owner, repo string) (labels []string, files int, err error) {
	_, dir, resp, err := gh.Repositories.GetContents(ctx, owner, repo, ".github/ISSUE_TEMPLATE", nil)
	if resp != nil && resp.StatusCode == 404 {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the issue templates: %w", err)
	}
	for _, e := range dir {
		name := e.GetName()
		ext := path.Ext(name)
		if e.GetType() != "file" || (ext != ".md" && ext != ".yml" && ext != ".yaml") || strings.HasPrefix(name, "config.") {
			continue
		}
		f, _, _, err := gh.Repositories.GetContents(ctx, owner, repo, e.GetPath(), nil)
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", e.GetPath(), err)
		}
		text, err := f.GetContent()
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", e.GetPath(), err)
		}
		files++
		for _, l := range templateFileLabels(ext, text) {
			if !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
		}
	}
	return labels, files, nil
}

// templateFileLabels reads `labels:` of an issue form (YAML) or of a Markdown template's front
// matter: a list, or one comma-separated string.
func templateFileLabels(ext, text string) []string {
	if ext == ".md" {
		rest, ok := strings.CutPrefix(strings.TrimLeft(text, "\ufeff"), "---\n")
		if !ok {
			return nil
		}
		front, _, ok := strings.Cut(rest, "\n---")
		if !ok {
			return nil
		}
		text = front
	}
	var t struct {
		Labels any `yaml:"labels"`
	}
	if yaml.Unmarshal([]byte(text), &t) != nil {
		return nil
	}
	var out []string
	switch v := t.Labels.(type) {
	case string:
		for _, l := range strings.Split(v, ",") {
			if l = strings.Trim(strings.TrimSpace(l), `"'`); l != "" {
				out = append(out, l)
			}
		}
	case []any:
		for _, l := range v {
			if s, ok := l.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}

func matchesAny(label string, patterns ...string) bool {
	for _, p := range patterns {
		if regexp.MustCompile(`(?i)^(?:` + p + `)$`).MatchString(label) {
			return true
		}
	}
	return false
}

// starterDefaults is every key at its default, as the README documents them; a test checks that
// uncommented they are exactly rules.DefaultConfig().
const starterDefaults = `needs_triage:
  enabled: true
  label: needs-triage
  not_triage_labels: ["needs-triage", "priority: .*"]  # regexes: adding these is not triage
  remove_on_assign: true
priority:
  enabled: true
  applies_to: []              # label regexes; empty = every open issue
  score: comments             # comments | participants | comments_and_reactions
  levels:                     # first level the score reaches wins
    - {label: "priority: high", at: 20}
    - {label: "priority: medium", at: 10}
    - {label: "priority: low", at: 3}
  hysteresis: 2               # drop a level only this far below its threshold
  respect_manual: true        # a priority label a human set is left alone
code_of_conduct:
  enabled: true
  url: ""                     # empty: the repository's or organisation's CODE_OF_CONDUCT.md
  welcome_first_time: true
  patterns: []                # extra regexes that call for a reminder
  builtin_patterns: true
  reply: public               # public: one reminder per user per issue; private: notify maintainers only
commands:
  enabled: true
  permissions: {label: triage, remove-label: triage, priority: triage, triage: triage,
                needs-triage: triage, assign: triage, unassign: triage, close: author,
                reopen: author, coc: triage, notify: anyone, help: anyone, why: anyone}
  anyone_may_label: []        # label regexes anyone may add or remove
notifications:
  routes: []                  # see the README's Notifications
`

// starterConfig is the file config init writes: the defaults commented out, and a proposal's
// needs_triage keys uncommented.
func starterConfig(p *proposal) string {
	var b strings.Builder
	b.WriteString("# triagebot's configuration for this repository (https://github.com/triagebot/triagebot#repository-configuration).\n")
	b.WriteString("# Every key is optional: the commented values are the defaults. Uncomment a key to change it.\n")
	if p != nil {
		fmt.Fprintf(&b, "# Proposed from %s's labels and issue templates:\n", p.repo)
		for _, l := range p.notes() {
			b.WriteString("#   " + l + "\n")
		}
		b.WriteString("needs_triage:\n")
		label := "needs-triage"
		if p.label != "" {
			label = p.label
			fmt.Fprintf(&b, "  label: %s\n", strconv.Quote(p.label))
		}
		not := []string{regexp.QuoteMeta(label), "priority: .*"}
		for _, l := range p.templates {
			not = append(not, regexp.QuoteMeta(l))
		}
		fmt.Fprintf(&b, "  not_triage_labels: [%s]\n", quoteAll(not))
	}
	for _, line := range strings.Split(strings.TrimSuffix(starterDefaults, "\n"), "\n") {
		if p != nil && (strings.HasPrefix(line, "needs_triage:") || strings.HasPrefix(line, "  label:") || strings.HasPrefix(line, "  not_triage_labels:")) {
			continue // proposed above
		}
		b.WriteString("#" + line + "\n")
	}
	return b.String()
}
