package rules

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/triagebot/triagebot/internal/yamlcheck"
)

// maxLabelLen is the longest label name GitHub accepts.
const maxLabelLen = 50

// decoder walks a YAML node tree into a Config, collecting every problem with its line
// rather than stopping at the first.
type decoder struct {
	errs []FieldError
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, FieldError{Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping decodes a mapping whose keys are known: an unknown or repeated key is an error.
// A null value (a section written with nothing under it) leaves everything as it was.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]func(*yaml.Node, string)) {
	if yamlcheck.IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", yamlcheck.DescribeKind(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain names")
			continue
		}
		p := join(path, key)
		if seen[key] {
			d.errorf(k, p, "key repeated")
			continue
		}
		seen[key] = true
		f, ok := fields[key]
		if !ok {
			d.errorf(k, p, "unknown key (known: %s)", knownKeys(fields))
			continue
		}
		f(v, p)
	}
}

func knownKeys(fields map[string]func(*yaml.Node, string)) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func (d *decoder) boolean(n *yaml.Node, path string, out *bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, path, "expected true or false, got %s", yamlcheck.DescribeKind(n))
		return
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		d.errorf(n, path, "expected true or false, got %s", yamlcheck.DescribeKind(n))
		return
	}
	*out = v
}

func (d *decoder) integer(n *yaml.Node, path string, min int, out *int) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "expected a whole number, got %s", yamlcheck.DescribeKind(n))
		return
	}
	var v int
	if err := n.Decode(&v); err != nil {
		d.errorf(n, path, "expected a whole number, got %s", yamlcheck.DescribeKind(n))
		return
	}
	if v < min {
		d.errorf(n, path, "must be at least %d, got %d", min, v)
		return
	}
	*out = v
}

// str accepts any non-null scalar but a boolean: a label may well be "2024" (read as a number).
func (d *decoder) str(n *yaml.Node, path string, out *string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		d.errorf(n, path, "expected a string, got %s", yamlcheck.DescribeKind(n))
		return false
	}
	*out = n.Value
	return true
}

func (d *decoder) oneOf(n *yaml.Node, path string, allowed []string, out *string) {
	var v string
	if !d.str(n, path, &v) {
		return
	}
	if !slices.Contains(allowed, v) {
		d.errorf(n, path, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
		return
	}
	*out = v
}

func (d *decoder) label(n *yaml.Node, path string, out *string) {
	var v string
	if !d.str(n, path, &v) {
		return
	}
	if msg := checkLabel(v); msg != "" {
		d.errorf(n, path, "%s", msg)
		return
	}
	*out = v
}

// checkLabel says why GitHub would refuse a label name, or "".
func checkLabel(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "a label name cannot be empty"
	case utf8.RuneCountInString(name) > maxLabelLen:
		return fmt.Sprintf("label %q is %d characters long; GitHub allows at most %d", name, utf8.RuneCountInString(name), maxLabelLen)
	}
	return ""
}

// list decodes a sequence, calling item for each entry; null is the empty list.
func (d *decoder) list(n *yaml.Node, path string, item func(*yaml.Node, string)) bool {
	if yamlcheck.IsNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", yamlcheck.DescribeKind(n))
		return false
	}
	for i, c := range n.Content {
		item(c, fmt.Sprintf("%s[%d]", path, i))
	}
	return true
}

// regexps decodes a list of regular expressions, each checked by compiling it as Evaluate will.
func (d *decoder) regexps(n *yaml.Node, path string, whole bool, out *[]string) {
	before := len(d.errs)
	var v []string
	ok := d.list(n, path, func(c *yaml.Node, p string) {
		var s string
		if !d.str(c, p, &s) {
			return
		}
		if _, err := compilePattern(s, whole); err != nil {
			d.errorf(c, p, "invalid regular expression %q: %s", s, regexpProblem(err))
			return
		}
		v = append(v, s)
	})
	if ok && len(d.errs) == before {
		if v == nil {
			v = []string{}
		}
		*out = v
	}
}

func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s in %q", se.Code, se.Expr)
	}
	return err.Error()
}

// compilePattern compiles a configured regular expression: case-insensitive, and anchored to
// the whole text when whole (label names).
func compilePattern(s string, whole bool) (*regexp.Regexp, error) {
	if whole {
		return regexp.Compile(`(?i)^(?:` + s + `)$`)
	}
	return regexp.Compile(`(?i)` + s)
}

func (d *decoder) config(n *yaml.Node, path string, cfg *Config) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"needs_triage":    func(n *yaml.Node, p string) { d.needsTriage(n, p, &cfg.NeedsTriage) },
		"priority":        func(n *yaml.Node, p string) { d.priority(n, p, &cfg.Priority) },
		"code_of_conduct": func(n *yaml.Node, p string) { d.codeOfConduct(n, p, &cfg.CodeOfConduct) },
		"commands":        func(n *yaml.Node, p string) { d.commands(n, p, &cfg.Commands) },
		"notifications":   func(n *yaml.Node, p string) { d.notifications(n, p, &cfg.Notifications) },
		"backfill":        func(n *yaml.Node, p string) { d.boolean(n, p, &cfg.Backfill) },
		"security":        func(n *yaml.Node, p string) { d.security(n, p, &cfg.Security) },
		"lifecycle":       func(n *yaml.Node, p string) { d.lifecycle(n, p, &cfg.Lifecycle) },
		"labels":          func(n *yaml.Node, p string) { d.labelList(n, p, &cfg.Labels) },
	})
}

func (d *decoder) security(n *yaml.Node, path string, c *SecurityConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled":          func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"patterns":         func(n *yaml.Node, p string) { d.regexps(n, p, false, &c.Patterns) },
		"builtin_patterns": func(n *yaml.Node, p string) { d.boolean(n, p, &c.BuiltinPatterns) },
		"label": func(n *yaml.Node, p string) {
			var s string
			if d.str(n, p, &s) && s != "" {
				if msg := checkLabel(s); msg != "" {
					d.errorf(n, p, "%s", msg)
					return
				}
			}
			c.Label = s
		},
		"comment": func(n *yaml.Node, p string) { d.boolean(n, p, &c.Comment) },
		"notify":  func(n *yaml.Node, p string) { d.boolean(n, p, &c.Notify) },
		"lock":    func(n *yaml.Node, p string) { d.boolean(n, p, &c.Lock) },
		"redact":  func(n *yaml.Node, p string) { d.boolean(n, p, &c.Redact) },
	})
}

func (d *decoder) needsTriage(n *yaml.Node, path string, c *NeedsTriageConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled":           func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"label":             func(n *yaml.Node, p string) { d.label(n, p, &c.Label) },
		"not_triage_labels": func(n *yaml.Node, p string) { d.regexps(n, p, true, &c.NotTriageLabels) },
		"remove_on_assign":  func(n *yaml.Node, p string) { d.boolean(n, p, &c.RemoveOnAssign) },
		"triage_bots":       func(n *yaml.Node, p string) { d.strings(n, p, &c.TriageBots) },
		"remove_on_close":   func(n *yaml.Node, p string) { d.boolean(n, p, &c.RemoveOnClose) },
	})
}

// strings decodes a list of non-empty strings; null is the empty list.
func (d *decoder) strings(n *yaml.Node, path string, out *[]string) {
	before := len(d.errs)
	v := []string{}
	ok := d.list(n, path, func(c *yaml.Node, p string) {
		var s string
		if d.str(c, p, &s) {
			if strings.TrimSpace(s) == "" {
				d.errorf(c, p, "must not be empty")
				return
			}
			v = append(v, s)
		}
	})
	if ok && len(d.errs) == before {
		*out = v
	}
}

func (d *decoder) priority(n *yaml.Node, path string, c *PriorityConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled":    func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"applies_to": func(n *yaml.Node, p string) { d.regexps(n, p, true, &c.AppliesTo) },
		"score": func(n *yaml.Node, p string) {
			d.oneOf(n, p, []string{ScoreComments, ScoreParticipants, ScoreCommentsAndReactions}, &c.Score)
		},
		"levels":         func(n *yaml.Node, p string) { d.levels(n, p, &c.Levels) },
		"hysteresis":     func(n *yaml.Node, p string) { d.integer(n, p, 0, &c.Hysteresis) },
		"respect_manual": func(n *yaml.Node, p string) { d.boolean(n, p, &c.RespectManual) },
	})
}

func (d *decoder) levels(n *yaml.Node, path string, out *[]Level) {
	before := len(d.errs)
	levels := []Level{}
	var lines []int
	ok := d.list(n, path, func(c *yaml.Node, p string) {
		l := Level{At: -1}
		d.mapping(c, p, map[string]func(*yaml.Node, string){
			"label": func(n *yaml.Node, p string) { d.label(n, p, &l.Label) },
			"at":    func(n *yaml.Node, p string) { d.integer(n, p, 0, &l.At) },
		})
		if c.Kind != yaml.MappingNode {
			return
		}
		if l.Label == "" {
			d.errorf(c, p, "a level needs a label")
		}
		if l.At < 0 {
			d.errorf(c, p, "a level needs a threshold (at)")
		}
		levels = append(levels, l)
		lines = append(lines, c.Line)
	})
	if !ok || len(d.errs) > before {
		return
	}
	for i := 1; i < len(levels); i++ {
		if levels[i].At >= levels[i-1].At {
			d.errs = append(d.errs, FieldError{Line: lines[i], Path: fmt.Sprintf("%s[%d].at", path, i),
				Msg: fmt.Sprintf("levels must go from the highest threshold down: %d is not below %d (%q)", levels[i].At, levels[i-1].At, levels[i-1].Label)})
		}
		for j := 0; j < i; j++ {
			if strings.EqualFold(levels[i].Label, levels[j].Label) {
				d.errs = append(d.errs, FieldError{Line: lines[i], Path: fmt.Sprintf("%s[%d].label", path, i),
					Msg: fmt.Sprintf("label %q is already used by level %d", levels[i].Label, j)})
			}
		}
	}
	if len(d.errs) == before {
		*out = levels
	}
}

func (d *decoder) codeOfConduct(n *yaml.Node, path string, c *CodeOfConductConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled": func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"url": func(n *yaml.Node, p string) {
			var s string
			if !d.str(n, p, &s) {
				return
			}
			if s != "" {
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					d.errorf(n, p, "expected an http(s) URL or nothing, got %q", s)
					return
				}
			}
			c.URL = s
		},
		"welcome_first_time": func(n *yaml.Node, p string) { d.boolean(n, p, &c.WelcomeFirstTime) },
		"patterns":           func(n *yaml.Node, p string) { d.regexps(n, p, false, &c.Patterns) },
		"builtin_patterns":   func(n *yaml.Node, p string) { d.boolean(n, p, &c.BuiltinPatterns) },
		"reply":              func(n *yaml.Node, p string) { d.oneOf(n, p, []string{ReplyPublic, ReplyPrivate}, &c.Reply) },
	})
}

// commandNames are the commands `commands.permissions` may name (issue 5).
var commandNames = []string{"label", "remove-label", "priority", "triage", "needs-triage", "assign",
	"unassign", "close", "reopen", "coc", "notify", "help", "why", "not-security", "self-assign", "lifecycle", "remove-lifecycle"}

func (d *decoder) commands(n *yaml.Node, path string, c *CommandsConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled": func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"permissions": func(n *yaml.Node, p string) {
			fields := map[string]func(*yaml.Node, string){}
			for _, name := range commandNames {
				fields[name] = func(n *yaml.Node, p string) {
					var v string
					d.oneOf(n, p, permissionLevels, &v)
					if v != "" {
						if c.Permissions == nil {
							c.Permissions = map[string]string{}
						}
						c.Permissions[name] = v
					}
				}
			}
			d.mapping(n, p, fields)
		},
		"anyone_may_label": func(n *yaml.Node, p string) { d.regexps(n, p, true, &c.AnyoneMayLabel) },
	})
}

var routeEvents = []string{RouteIssueOpened, RouteLabeled, RoutePriorityChanged, RouteConduct, RouteNotifyCommand, RouteUntriaged, RouteSecurity}

func (d *decoder) notifications(n *yaml.Node, path string, c *NotificationsConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"routes": func(n *yaml.Node, p string) {
			before := len(d.errs)
			routes := []Route{}
			d.list(n, p, func(n *yaml.Node, p string) {
				if r, ok := d.route(n, p); ok {
					routes = append(routes, r)
				}
			})
			if len(d.errs) == before {
				c.Routes = routes
			}
		},
	})
}

func (d *decoder) route(n *yaml.Node, path string) (Route, bool) {
	var r Route
	before := len(d.errs)
	var labelNode, levelNode, afterNode *yaml.Node
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"on":    func(n *yaml.Node, p string) { d.oneOf(n, p, routeEvents, &r.On) },
		"label": func(n *yaml.Node, p string) { labelNode = n; d.label(n, p, &r.Label) },
		"level": func(n *yaml.Node, p string) { levelNode = n; d.str(n, p, &r.Level) },
		"after": func(n *yaml.Node, p string) {
			afterNode = n
			if d.str(n, p, &r.After) {
				if dur, err := time.ParseDuration(r.After); err != nil || dur <= 0 {
					d.errorf(n, p, "expected a positive duration such as 72h, got %q", r.After)
				}
			}
		},
		"to": func(n *yaml.Node, p string) {
			d.list(n, p, func(n *yaml.Node, p string) {
				var s string
				if d.str(n, p, &s) {
					r.To = append(r.To, s)
				}
			})
		},
	})
	if n.Kind != yaml.MappingNode {
		return r, false
	}
	if r.On == "" && len(d.errs) == before {
		d.errorf(n, path, "a route needs `on`")
	}
	if len(r.To) == 0 && len(d.errs) == before {
		d.errorf(n, path, "a route needs at least one channel in `to`")
	}
	if labelNode != nil && r.On != RouteLabeled {
		d.errorf(labelNode, join(path, "label"), "only a route on labeled takes a label")
	}
	if levelNode != nil && r.On != RoutePriorityChanged {
		d.errorf(levelNode, join(path, "level"), "only a route on priority_changed takes a level")
	}
	if afterNode != nil && r.On != RouteUntriaged {
		d.errorf(afterNode, join(path, "after"), "only a route on untriaged takes after")
	}
	if r.On == RouteUntriaged && afterNode == nil && len(d.errs) == before {
		d.errorf(n, path, "a route on untriaged needs `after`")
	}
	return r, len(d.errs) == before
}

var channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (d *decoder) channels(n *yaml.Node, path string, out map[string]Channel) {
	if yamlcheck.IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping of channel names, got %s", yamlcheck.DescribeKind(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || !channelName.MatchString(k.Value) {
			d.errorf(k, p, "a channel name is letters, digits, '-', '_' or '.'")
			continue
		}
		if _, dup := out[k.Value]; dup {
			d.errorf(k, p, "channel defined twice")
			continue
		}
		if v.Kind != yaml.MappingNode {
			d.errorf(v, p, "expected a mapping, got %s", yamlcheck.DescribeKind(v))
			continue
		}
		ch := Channel{Line: k.Line, Node: *v}
		for j := 0; j+1 < len(v.Content); j += 2 {
			if v.Content[j].Value == "type" {
				d.oneOf(v.Content[j+1], join(p, "type"), channelTypes, &ch.Type)
			}
		}
		if ch.Type == "" {
			d.errorf(v, p, "a channel needs a type (%s)", strings.Join(channelTypes, ", "))
			continue
		}
		out[k.Value] = ch
	}
}

func (d *decoder) lifecycle(n *yaml.Node, path string, c *LifecycleConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"enabled":       func(n *yaml.Node, p string) { d.boolean(n, p, &c.Enabled) },
		"stale_days":    func(n *yaml.Node, p string) { d.integer(n, p, 1, &c.StaleDays) },
		"close_days":    func(n *yaml.Node, p string) { d.integer(n, p, 1, &c.CloseDays) },
		"label":         func(n *yaml.Node, p string) { d.label(n, p, &c.Label) },
		"frozen_label":  func(n *yaml.Node, p string) { d.label(n, p, &c.FrozenLabel) },
		"exempt_labels": func(n *yaml.Node, p string) { d.regexps(n, p, true, &c.ExemptLabels) },
		"rules": func(n *yaml.Node, p string) {
			before := len(d.errs)
			rules := []LifecycleRule{}
			d.list(n, p, func(n *yaml.Node, p string) {
				r := LifecycleRule{StaleDays: c.StaleDays, CloseDays: c.CloseDays}
				d.mapping(n, p, map[string]func(*yaml.Node, string){
					"label": func(n *yaml.Node, p string) {
						var re []string
						d.regexps(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}, Line: n.Line}, p, true, &re)
						if len(re) == 1 {
							r.Label = re[0]
						}
					},
					"stale_days": func(n *yaml.Node, p string) { d.integer(n, p, 1, &r.StaleDays) },
					"close_days": func(n *yaml.Node, p string) { d.integer(n, p, 1, &r.CloseDays) },
				})
				if n.Kind == yaml.MappingNode && r.Label == "" && len(d.errs) == before {
					d.errorf(n, p, "a lifecycle rule needs a label")
				}
				rules = append(rules, r)
			})
			if len(d.errs) == before {
				c.Rules = rules
			}
		},
	})
}
