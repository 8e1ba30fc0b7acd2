// Package yamlcheck holds what the strict YAML decoders of the configuration files share: a
// problem with its line and key path, and plain words for what a node holds.
package yamlcheck

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is one problem in a configuration file.
type FieldError struct {
	Line int    // 1-based; 0 when the problem has no single line
	Path string // the key, e.g. "priority.levels[1].at"; empty for the whole file
	Msg  string
}

func (e FieldError) String() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Join lists problems for an error message, prefixed by what was being read.
func Join(prefix string, errs []FieldError) string {
	parts := make([]string, len(errs))
	for i, fe := range errs {
		parts[i] = fe.String()
	}
	return prefix + ": " + strings.Join(parts, "; ")
}

// DescribeKind says in plain words what a node holds, for "want X, got Y" messages.
func DescribeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return fmt.Sprintf("%q", n.Value)
}

// IsNull reports whether a node is YAML's null (`~`, `null` or nothing).
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }
