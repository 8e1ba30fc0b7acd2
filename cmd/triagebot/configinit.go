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
	"strings"

	"github.com/alecthomas/kong"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/triagebot/triagebot/rules"
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

// sectionNotes introduce the sections of the starter file.
var sectionNotes = map[string]string{
	"needs_triage":    "new issues wait, labelled, until a maintainer triages them",
	"priority":        "a priority label from how much people talk about an issue",
	"code_of_conduct": "welcomes and reminders of the code of conduct",
	"commands":        "/label, /assign, /close... in comments, and who may use them",
	"notifications":   "routes to the server's notification channels",
	"security":        "issues that read like a vulnerability report filed in public",
	"lifecycle":       "stale and frozen issues",
}

// starterConfig is the file config init writes: every key of rules.DefaultConfig() (so it never
// lags behind the defaults), commented out; with a proposal, its needs_triage keys uncommented.
func starterConfig(p *proposal) string {
	cfg := rules.DefaultConfig()
	if p != nil {
		label := cfg.NeedsTriage.Label
		if p.label != "" {
			label = p.label
		}
		cfg.NeedsTriage.Label = label
		cfg.NeedsTriage.NotTriageLabels = []string{regexp.QuoteMeta(label), "priority: .*"}
		for _, l := range p.templates {
			cfg.NeedsTriage.NotTriageLabels = append(cfg.NeedsTriage.NotTriageLabels, regexp.QuoteMeta(l))
		}
	}
	var y strings.Builder
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		panic(fmt.Sprintf("marshal the default configuration: %v", err)) // rules' own types
	}
	var b strings.Builder
	b.WriteString("# triagebot's configuration for this repository (https://github.com/triagebot/triagebot#repository-configuration).\n")
	b.WriteString("# Every key is optional: the commented values are the defaults. Uncomment a key to change it.\n")
	if p != nil {
		fmt.Fprintf(&b, "# Proposed from %s's labels and issue templates (uncommented below):\n", p.repo)
		for _, l := range p.notes() {
			b.WriteString("#   " + l + "\n")
		}
	}
	section, key := "", ""
	for _, line := range strings.Split(strings.TrimSuffix(y.String(), "\n"), "\n") {
		switch {
		case !strings.HasPrefix(line, " "):
			section, key = strings.TrimSuffix(line, ":"), ""
			if note := sectionNotes[section]; note != "" {
				b.WriteString("\n# " + section + ": " + note + "\n")
			}
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && !strings.HasPrefix(line, "  - "):
			key, _, _ = strings.Cut(strings.TrimSpace(line), ":")
		}
		proposed := p != nil && section == "needs_triage" && (key == "" || key == "label" || key == "not_triage_labels")
		if !proposed {
			line = "#" + line
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
