package ghapp

import (
	"fmt"
	"hash/fnv"
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

// LabelSpec is a label the configuration names, created in a repository when missing.
type LabelSpec struct {
	Name        string
	Color       string // six hex digits, no '#'
	Description string
}

// LabelSpecs are the labels cfg uses: the needs-triage label and the priority levels, each with
// a colour and a description (GitHub limits descriptions to 100 characters).
func LabelSpecs(cfg rules.Config) []LabelSpec {
	var specs []LabelSpec
	if cfg.NeedsTriage.Enabled && cfg.NeedsTriage.Label != "" {
		specs = append(specs, LabelSpec{Name: cfg.NeedsTriage.Label, Color: "fbca04",
			Description: "Waiting for a maintainer to triage this issue"})
	}
	if cfg.Priority.Enabled {
		colours := []string{"b60205", "d93f0b", "fbca04", "0e8a16", "c5def5"}
		for i, l := range cfg.Priority.Levels {
			if l.Label == "" {
				continue
			}
			c := colours[len(colours)-1]
			if i < len(colours) {
				c = colours[i]
			}
			specs = append(specs, LabelSpec{Name: l.Label, Color: c,
				Description: truncate(fmt.Sprintf("Priority by community interest (score %d or more)", l.At), 100)})
		}
	}
	return specs
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
