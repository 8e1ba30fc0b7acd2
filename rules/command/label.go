package command

import "strings"

// SameLabel reports whether a and b name the same label as GitHub sees it:
// label names are unique regardless of case, and surrounding white space is
// not part of a name.
func SameLabel(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
