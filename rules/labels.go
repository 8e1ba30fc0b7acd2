package rules

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// LabelConfig is one entry of the `labels:` section: the bot creates the label when the
// repository lacks it and updates its colour and description when they differ; it never
// deletes a label. An entry for the needs-triage label or a priority level sets its colour.
type LabelConfig struct {
	Name        string `yaml:"name" json:"name"`
	Color       string `yaml:"color,omitempty" json:"color,omitempty"` // six hex digits, without '#'
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// maxLabelDescription is the longest label description GitHub accepts.
const maxLabelDescription = 100

func (d *decoder) labelList(n *yaml.Node, path string, out *[]LabelConfig) {
	before := len(d.errs)
	var labels []LabelConfig // none: nil, as in DefaultConfig
	ok := d.list(n, path, func(c *yaml.Node, p string) {
		var l LabelConfig
		d.mapping(c, p, map[string]func(*yaml.Node, string){
			"name": func(n *yaml.Node, p string) { d.label(n, p, &l.Name) },
			"color": func(n *yaml.Node, p string) {
				var s string
				if !d.str(n, p, &s) {
					return
				}
				s = strings.ToLower(strings.TrimPrefix(s, "#"))
				if len(s) != 6 || strings.Trim(s, "0123456789abcdef") != "" {
					d.errorf(n, p, "expected a colour of six hex digits such as d73a4a, got %q", n.Value)
					return
				}
				l.Color = s
			},
			"description": func(n *yaml.Node, p string) {
				if d.str(n, p, &l.Description) && utf8.RuneCountInString(l.Description) > maxLabelDescription {
					d.errorf(n, p, "a description is at most %d characters for GitHub, got %d", maxLabelDescription, utf8.RuneCountInString(l.Description))
				}
			},
		})
		if c.Kind != yaml.MappingNode {
			return
		}
		if l.Name == "" {
			d.errorf(c, p, "a label needs a name")
			return
		}
		for _, o := range labels {
			if strings.EqualFold(o.Name, l.Name) {
				d.errorf(c, p, "label %q is listed twice", l.Name)
				return
			}
		}
		labels = append(labels, l)
	})
	if ok && len(d.errs) == before {
		*out = labels
	}
}
