package markdown

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/triagebot/triagebot/internal/markdown/markdowntest"
)

// hostile are user strings that would be markup if written raw (issue 8.6).
var hostile = []string{
	`<img src=https://e.vil/p.gif>`,
	`[x](https://e.vil)`,
	`![x](https://e.vil/p.gif)`,
	`[x][1]`,
	"[1]: https://e.vil",
	`<https://e.vil>`,
	`https://e.vil/p.gif`,
	`see www.e.vil now`,
	`WWW.E.VIL`,
	`<script>alert(1)</script>`,
	`</code><img src=x onerror=alert(1)>`,
	`&lt;img src=x&gt;`,
	`&#60;b&#62;bold&#60;/b&#62;`,
	`**bold** _it_ ~~gone~~`,
	`# heading`,
	`- [ ] task`,
	`1. item`,
	`> quote`,
	`---`,
	"`code`",
	"a`b``c```d",
	"`",
	"``",
	" ` ",
	"```js",
	"ends with `",
	`\`,
	`\|`,
	`a | b`,
	`|`,
	"line one\nline two <b>x</b>\r\n| c |",
	`@org/everyone please`,
	`&#64;octocat`,
	`<!-- hidden -->`,
	`$x$`,
	"plain label",
	"",
	"   ",
	"needs-triage",
	"priority: high",
	"日本語 ラベル 🐛",
}

func render(t *testing.T, src string) string { return markdowntest.HTML(t, src) }

var tag = regexp.MustCompile(`<[^>]*>`)

// visible is rendered HTML as a reader sees it: no tags, entities decoded, no zero-width spaces.
func visible(h string) string {
	return strings.ReplaceAll(html.UnescapeString(tag.ReplaceAllString(h, "")), zwsp, "")
}

func tags(h string) []string { return tag.FindAllString(h, -1) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestTextIsLiteral(t *testing.T) {
	for _, s := range hostile {
		out := render(t, "Label "+Text(s)+" here.")
		if got := tags(out); strings.Join(got, "") != "<p></p>" {
			t.Errorf("%q renders markup: %s", s, out)
		}
		if got, want := strings.TrimSpace(visible(out)), strings.TrimSpace("Label "+oneLine(s)+" here."); got != strings.Join(strings.Fields(want), " ") && got != want {
			t.Errorf("%q reads %q, want %q", s, got, want)
		}
	}
}

func TestCodeIsOneSpan(t *testing.T) {
	for _, s := range hostile {
		out := render(t, "Label "+Code(s)+" here.")
		if got := tags(out); strings.Join(got, "") != "<p><code></code></p>" {
			t.Errorf("%q renders %s", s, out)
			continue
		}
		code := out[strings.Index(out, "<code>")+len("<code>") : strings.Index(out, "</code>")]
		want := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
		if strings.TrimSpace(want) == "" {
			want = strings.TrimSpace(want) // CommonMark keeps all-space spans as they are; any width will do
			code = strings.TrimSpace(visible(code))
		} else {
			code = visible(code)
		}
		if code != want {
			t.Errorf("%q shows as %q", s, code)
		}
	}
}

func TestCellsStayCells(t *testing.T) {
	for _, s := range hostile {
		src := "| a | b | c |\n| --- | --- | --- |\n| " + Cell(Text(s)) + " | " + Cell(Code(s)) + " | end |\n"
		out := render(t, src)
		if n := strings.Count(out, "<td>"); n != 3 {
			t.Errorf("%q: %d cells in %s", s, n, out)
		}
		for _, tg := range tags(out) {
			switch strings.TrimPrefix(tg, "</") {
			case "<table>", "<thead>", "<tbody>", "<tr>", "<th>", "<td>", "table>", "thead>", "tbody>", "tr>", "th>", "td>", "<code>", "code>":
			default:
				t.Errorf("%q: tag %s in %s", s, tg, out)
			}
		}
		if !strings.Contains(out, "<td>end</td>") {
			t.Errorf("%q: the last cell moved: %s", s, out)
		}
	}
}

func TestMentionsDoNotNotify(t *testing.T) {
	for _, f := range []func(string) string{Text, Code} {
		if got := f("@org/everyone"); strings.Contains(got, "@org") {
			t.Errorf("%q mentions @org", got)
		}
	}
}

func TestLoginAndLink(t *testing.T) {
	tests := []struct{ give, want string }{
		{"octocat", "@octocat"},
		{"dependabot[bot]", "@dependabot[bot]"},
		{"a-b-9", "@a-b-9"},
		{"<img src=x>", "`@<img src=x>`"},
		{"x](https://e.vil)", "`@\u200bx](https://e.vil)`"},
	}
	for _, tt := range tests {
		if got := Login(tt.give); got != tt.want {
			t.Errorf("Login(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	for _, u := range []string{"https://example.org/conduct", "https://e.vil/a) ![x](https://e.vil/p.gif", "https://e.vil/<img src=x>"} {
		out := render(t, "Read the "+Link("code of conduct", u)+".")
		if got := strings.Join(tags(out), ""); !regexp.MustCompile(`^<p><a href="[^"]*"></a></p>$`).MatchString(got) {
			t.Errorf("%q renders %s", u, out)
		}
	}
}

func TestTextStartingALine(t *testing.T) {
	for _, s := range hostile {
		if strings.TrimSpace(s) == "" {
			continue
		}
		for _, src := range []string{Text(s) + "\n", "- " + Text(s) + "\n", "Intro\n" + Text(s) + "\n"} {
			out := render(t, src)
			for _, tg := range tags(out) {
				switch tg {
				case "<p>", "</p>", "<ul>", "</ul>", "<li>", "</li>":
				default:
					t.Errorf("%q: %s in %s", src, tg, out)
				}
			}
		}
	}
}
