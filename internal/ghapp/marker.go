package ghapp

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/triagebot/triagebot/rules"
)

// Marker is the hidden line that identifies a bot comment: <!-- triagebot:RULE:KEY -->.
// Characters that would end the HTML comment early or break the line are replaced.
func Marker(rule, key string) string {
	return "<!-- triagebot:" + strings.ReplaceAll(markerPart(rule), ":", "_") + ":" + markerPart(key) + " -->"
}

func markerPart(s string) string {
	s = strings.NewReplacer(">", "_", "\n", " ", "\r", " ").Replace(s)
	return strings.TrimSpace(s)
}

// CommentBody is the body the executor posts: the marker line, then the rule's text.
func CommentBody(marker, body string) string {
	return marker + "\n" + body
}

// commentKey is an action's key; a comment without one gets a key of its event and text, so a
// retried event still finds the comment it posted before the process died.
func commentKey(a rules.Action, deliveryID string) string {
	if a.Key != "" {
		return a.Key
	}
	h := fnv.New64a()
	h.Write([]byte(a.Body))
	return fmt.Sprintf("delivery-%s-%x", deliveryID, h.Sum64())
}

// sameBody compares comment bodies as GitHub may return them (CRLF, trailing space).
func sameBody(a, b string) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return norm(a) == norm(b)
}

// LabelSpec is a label the configuration uses, created in a repository when missing.
type LabelSpec struct {
	Name        string
	Color       string // six hex digits, no '#'; empty: GitHub's default when created, kept when updated
	Description string
	// Update: the repository's `labels:` section names it, so an existing label whose colour or
	// description differ is updated; labels the bot only uses keep what the maintainers made.
	Update bool
}

// The built-in colours: needs-triage yellow, then the priority levels from red to green and
// blues, each distinct from needs-triage's. A `labels:` entry changes them.
const needsTriageColor = "fbca04"

var levelColors = []string{"b60205", "d93f0b", "0e8a16", "1d76db", "c5def5"}

// LabelSpecs are the labels cfg uses, with colours and descriptions (GitHub limits these to
// 100 characters): the needs-triage label and the priority levels, overlaid and followed by the
// entries of its `labels:` section.
func LabelSpecs(cfg rules.Config) []LabelSpec {
	var specs []LabelSpec
	if cfg.NeedsTriage.Enabled && cfg.NeedsTriage.Label != "" {
		specs = append(specs, LabelSpec{Name: cfg.NeedsTriage.Label, Color: needsTriageColor,
			Description: "Waiting for a maintainer to triage this issue"})
	}
	if cfg.Priority.Enabled {
		for i, l := range cfg.Priority.Levels {
			if l.Label == "" {
				continue
			}
			specs = append(specs, LabelSpec{Name: l.Label, Color: levelColors[min(i, len(levelColors)-1)],
				Description: truncate(fmt.Sprintf("Priority by community interest (score %d or more)", l.At), 100)})
		}
	}
	for _, l := range cfg.Labels {
		i := slices.IndexFunc(specs, func(s LabelSpec) bool { return strings.EqualFold(s.Name, l.Name) })
		if i < 0 {
			specs = append(specs, LabelSpec{Name: l.Name})
			i = len(specs) - 1
		}
		s := &specs[i]
		s.Update = true
		if l.Color != "" {
			s.Color = l.Color
		}
		if l.Description != "" {
			s.Description = l.Description
		}
	}
	return specs
}

// similarLabel is a label name without what the adoption of an existing label disregards: case,
// spaces, dashes and underscores, and a "status:" or "S:" prefix ("S: needs triage" is
// needs-triage).
func similarLabel(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	for _, prefix := range []string{"status:", "s:"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			s = rest
			break
		}
	}
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// kvToken makes a name safe as one token of a JetStream KV key ([-_a-zA-Z0-9] kept, anything
// else, '.' included, as =XX), lower-cased since GitHub names are case-insensitive.
func kvToken(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	if b.Len() == 0 {
		return "="
	}
	return b.String()
}

// ConfigKey is the configuration cache's key of owner/repo's .github/triagebot.yml.
func ConfigKey(owner, repo string) string {
	return "file." + kvToken(owner) + "." + kvToken(repo)
}

// splitRepo splits "owner/name".
func splitRepo(full string) (owner, name string, ok bool) {
	owner, name, ok = strings.Cut(full, "/")
	return owner, name, ok && owner != "" && name != ""
}
