package command

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

var neutralizeSeeds = []string{
	"", "@alice", "@org/everyone", "a@b.com", "&#64;x", "&#x40;x", "&commat;x", "＠x", "x@@y", "(@a)",
	"`@a`", "**@a**", "&#640;", "&#64a", "&#x40a", "@\u200ba",
}

func TestNeutralize(t *testing.T) {
	const z = zwsp
	tests := []struct {
		give, want string
	}{
		{give: "", want: ""},
		{give: "bug", want: "bug"},
		{give: "@alice", want: "@" + z + "alice"},
		{give: "/label @org/everyone", want: "/label @" + z + "org/everyone"},
		{give: "cc @a, @b-c and @d.", want: "cc @" + z + "a, @" + z + "b-c and @" + z + "d."},
		{give: "(@a)", want: "(@" + z + "a)"},
		{give: "**@a**", want: "**@" + z + "a**"},
		{give: "`@a`", want: "`@" + z + "a`"},
		{give: "x_@a", want: "x_@" + z + "a"},
		{give: "@@a", want: "@@" + z + "a"},
		{give: "@1a", want: "@" + z + "1a"},
		{give: "mail a@b.com", want: "mail a@b.com"},
		{give: "first.last@example.org", want: "first.last@example.org"},
		{give: "@ alone", want: "@ alone"},
		{give: "@-x", want: "@-x"},
		{give: "trailing @", want: "trailing @"},
		{give: "&#64;a", want: "&#64;" + z + "a"},
		{give: "&#064;a", want: "&#064;" + z + "a"},
		{give: "&#x40;a", want: "&#x40;" + z + "a"},
		{give: "&#X0040;a", want: "&#X0040;" + z + "a"},
		{give: "&#64a", want: "&#64" + z + "a"},
		{give: "&commat;a", want: "&commat;" + z + "a"},
		{give: "a&#64;b", want: "a&#64;b"},
		{give: "&#640; other character", want: "&#640; other character"},
		{give: "&#x40a; other character", want: "&#x40a; other character"},
		{give: "＠a", want: "＠" + z + "a"},
		{give: "﹫a", want: "﹫" + z + "a"},
		{give: "already @" + z + "a", want: "already @" + z + "a"},
		{give: "é@a", want: "é@" + z + "a"},
		{give: "\xff@a", want: "\xff@" + z + "a"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Neutralize(tt.give)); diff != "" {
				t.Errorf("Neutralize(%q) (-want +got):\n%s", tt.give, diff)
			}
		})
	}
}

// TestErrorsAreNeutralised: an error message quotes the user's text, and the
// caller may echo it as is.
func TestErrorsAreNeutralised(t *testing.T) {
	for _, body := range []string{"/assign @org/everyone", "/close @everyone", `/label "@a`, "/assign @a--b", `/label @x"y`} {
		cmds := Parse(body)
		if len(cmds) != 1 || cmds[0].Err == nil {
			t.Fatalf("Parse(%q) = %v, want one command with an error", body, cmds)
		}
		if msg := cmds[0].Err.Error(); mentionRE.MatchString(msg) {
			t.Errorf("Parse(%q) error %q holds a mention", body, msg)
		}
	}
}

func TestSameLabel(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"bug", "bug", true},
		{"Bug", "bUG", true},
		{" good first issue ", "Good First Issue", true},
		{"priority: high", "priority:high", false},
		{"bug", "bugs", false},
		{"Ünicode", "ünicode", true},
	}
	for _, tt := range tests {
		if got := SameLabel(tt.a, tt.b); got != tt.want {
			t.Errorf("SameLabel(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
