// Package markdowntest renders Markdown as GitHub does (CommonMark with GFM tables, autolinks,
// strikethrough and task lists), raw HTML kept, so tests can see what a bot comment would show.
package markdowntest

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// HTML renders src; raw HTML in it is kept, so an injection shows as a tag.
func HTML(t testing.TB, src string) string {
	t.Helper()
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var tag = regexp.MustCompile(`<[^>]*>`)

// Tags are the HTML tags of h, in order.
func Tags(h string) []string { return tag.FindAllString(h, -1) }

var hostileTag = regexp.MustCompile(`(?i)<(img|a|script|iframe|svg|style|h[1-6]|strong|em|del|input)[\s>]`)

// Hostile reports the first tag of h that user text must never produce in a bot comment, or "".
func Hostile(h string) string { return hostileTag.FindString(h) }
