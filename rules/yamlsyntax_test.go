package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A YAML syntax error points at the line to fix and says what is wrong in plain words.
func TestYAMLSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, give string
		want       FieldError
	}{
		{"unclosed list", "priority: [\n", FieldError{Line: 1, Msg: "a value is missing, or a '[' or '{' is not closed (yaml: did not find expected node content)"}},
		{"unclosed quote", "needs_triage:\n  label: \"x\n", FieldError{Line: 2, Msg: "the file ends inside a quoted string or a bracket: a quote or bracket is not closed (yaml: found unexpected end of stream)"}},
		{"colon in a value", "needs_triage:\n  label: a: b\n", FieldError{Line: 2, Msg: "a ':' where no key can start: quote a value that contains ': ', or give the key on the line before its ':' (yaml: mapping values are not allowed in this context)"}},
		{"key indented less", "needs_triage:\n  enabled: true\n label: x\n", FieldError{Line: 3, Msg: "this line's indentation does not line up with the keys above it (yaml: did not find expected key)"}},
		{"key indented less, deeper", "priority:\n  levels:\n    - label: a\n      at: 3\n     hysteresis: 2\n", FieldError{Line: 5, Msg: "this line's indentation does not line up with the list above it (yaml: did not find expected '-' indicator)"}},
		{"key indented more", "needs_triage:\n  enabled: true\n    label: x\n", FieldError{Line: 3, Msg: "a ':' where no key can start: quote a value that contains ': ', or give the key on the line before its ':' (yaml: mapping values are not allowed in this context)"}},
		{"unclosed brace", "priority:\n  levels:\n    - {label: a, at: 3\n  hysteresis: 2\n", FieldError{Line: 3, Msg: "a '{' is not closed with '}', or its items lack a ',' (yaml: did not find expected ',' or '}')"}},
		{"at sign on line 1", "@x: 1\n", FieldError{Line: 1, Msg: "a character that cannot start a value (a tab used for indentation, '@' or '`'): indent with spaces, quote the value (yaml: found character that cannot start any token)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(DefaultConfig(), []byte(tt.give))
			ce, ok := err.(*ConfigError)
			if !ok || len(ce.Errors) != 1 {
				t.Fatalf("error %v", err)
			}
			if diff := cmp.Diff(tt.want, ce.Errors[0]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
