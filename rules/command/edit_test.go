package command

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddedCommands(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []got
	}{
		{name: "new comment", old: "", new: "/close", want: []got{ok("/close", Close)}},
		{name: "typo fixed elsewhere", old: "/label bug\nthnaks", new: "/label bug\nthanks"},
		{name: "command added", old: "/label bug", new: "/label bug\n/close",
			want: []got{at(2, ok("/close", Close))}},
		{name: "command added above keeps new line numbers", old: "/label bug", new: "/assign\n/label bug",
			want: []got{ok("/assign", Assign)}},
		{name: "same command typed again runs again", old: "/label bug", new: "/label bug\n/label bug",
			want: []got{at(2, ok("/label bug", Label, "bug"))}},
		{name: "white space and case changes are the same command", old: "/label bug", new: "  /LABEL   bug "},
		{name: "arguments changed", old: "/label bug", new: "/label docs",
			want: []got{ok("/label docs", Label, "docs")}},
		{name: "removed command runs nothing", old: "/label bug\n/close", new: "/label bug"},
		{name: "moved into a code block", old: "/close", new: "```\n/close\n```"},
		{name: "moved out of a code block", old: "```\n/close\n```", new: "/close",
			want: []got{ok("/close", Close)}},
		{name: "moved out of a quote", old: "> /close", new: "/close", want: []got{ok("/close", Close)}},
		{name: "same error kept", old: "/lable bug", new: "/lable bug\nps"},
		{name: "error fixed", old: "/lable bug", new: "/label bug", want: []got{ok("/label bug", Label, "bug")}},
		{name: "deleted body", old: "/close", new: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarise(AddedCommands(tt.old, tt.new)), errOpt); diff != "" {
				t.Errorf("AddedCommands(%q, %q) (-want +got):\n%s", tt.old, tt.new, diff)
			}
		})
	}
}
