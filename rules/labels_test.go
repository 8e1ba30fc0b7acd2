package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabelsSection(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		want     []LabelConfig
		wantErrs []FieldError
	}{
		{name: "colours and descriptions",
			give: "labels:\n  - {name: needs-triage, color: '#EDEDED', description: Waiting for a maintainer}\n  - name: bug\n",
			want: []LabelConfig{{Name: "needs-triage", Color: "ededed", Description: "Waiting for a maintainer"}, {Name: "bug"}}},
		{name: "empty", give: "labels: []\n"},
		{name: "bad colour, no name, twice, long description",
			give: "labels:\n  - {name: a, color: red}\n  - {color: 'ffffff'}\n  - {name: B}\n  - {name: b}\n  - {name: c, description: " + "'" + strings.Repeat("x", 101) + "'}\n",
			wantErrs: []FieldError{
				{Line: 2, Path: "labels[0].color", Msg: `expected a colour of six hex digits such as d73a4a, got "red"`},
				{Line: 3, Path: "labels[1]", Msg: "a label needs a name"},
				{Line: 5, Path: "labels[3]", Msg: `label "b" is listed twice`},
				{Line: 6, Path: "labels[4].description", Msg: "a description is at most 100 characters for GitHub, got 101"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(DefaultConfig(), []byte(tt.give))
			var ce *ConfigError
			if errors.As(err, &ce) {
				if diff := cmp.Diff(tt.wantErrs, ce.Errors); diff != "" {
					t.Errorf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil || tt.wantErrs != nil {
				t.Fatalf("err = %v, want %v", err, tt.wantErrs)
			}
			if diff := cmp.Diff(tt.want, got.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}
