package rules

import (
	"fmt"
	"strings"
	"testing"
)

func TestMatchAnyAndCompileAll(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		give     string
		wantAny  bool // matchAny: whole string, any case
		wantAll  int  // compileAll: how many valid patterns
	}{
		{name: "none", give: "bug", wantAny: false, wantAll: 0},
		{name: "whole, any case", patterns: []string{"needs-triage", "priority: .*"}, give: "Priority: High", wantAny: true, wantAll: 2},
		{name: "not a part", patterns: []string{"bug"}, give: "bugfix", wantAny: false, wantAll: 1},
		{name: "invalid skipped", patterns: []string{"(", "area/.*"}, give: "area/api", wantAny: true, wantAll: 1},
		{name: "only invalid", patterns: []string{"(", "[z-a]"}, give: "(", wantAny: false, wantAll: 0},
		{name: "flags stay inside their pattern", patterns: []string{"(?-i)Exact", "other"}, give: "exact", wantAny: false, wantAll: 2},
		{name: "alternation inside a pattern", patterns: []string{"a|b", "c"}, give: "ab", wantAny: false, wantAll: 2},
	}
	first := []struct {
		patterns []string
		texts    []string
		want     string // the first pattern found in any text; "" none
	}{
		{patterns: []string{`\bidiot`, `moron`}, texts: []string{"you MORON", "idiot"}, want: `(?i)\bidiot`}, // the patterns' order decides
		{patterns: []string{`\bidiot`, `moron`}, texts: []string{"fine", "an idiot"}, want: `(?i)\bidiot`},
		{patterns: []string{`(`, `moron`}, texts: []string{"moron"}, want: "(?i)moron"},
		{patterns: []string{`moron`}, texts: []string{"kind words"}, want: ""},
	}
	for _, tt := range first {
		got := ""
		if re := firstMatch(tt.patterns, tt.texts...); re != nil {
			got = re.String()
		}
		if got != tt.want {
			t.Errorf("firstMatch(%q, %q) = %q, want %q", tt.patterns, tt.texts, got, tt.want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second call answers from the cache
				if got := matchAny(tt.patterns, tt.give); got != tt.wantAny {
					t.Errorf("matchAny(%q, %q) = %v, want %v", tt.patterns, tt.give, got, tt.wantAny)
				}
				if got := len(compileAll(tt.patterns)); got != tt.wantAll {
					t.Errorf("compileAll(%q) has %d, want %d", tt.patterns, got, tt.wantAll)
				}
			}
		})
	}
}

func TestPatternCacheIsBounded(t *testing.T) {
	c := newPatternCache(3)
	for i := range 10 {
		c.get([]string{fmt.Sprint("p", i)}, true)
	}
	if n := c.sets.Len(); n != 3 {
		t.Fatalf("cache holds %d lists, want 3", n)
	}
}

// A configuration near the 256 KiB limit: its patterns are compiled once, not per event.
// The two sub-benchmarks run in one process; compare them as a ratio.
func BenchmarkLargePatternList(b *testing.B) {
	var patterns []string
	size := 0
	for i := 0; size < 200<<10; i++ {
		p := fmt.Sprintf(`\bhostile phrase number %d\b`, i)
		patterns = append(patterns, p)
		size += len(p) + 6
	}
	text := strings.Repeat("a perfectly friendly comment about the feature request ", 20)
	b.Run("compiled-per-event", func(b *testing.B) {
		for b.Loop() {
			for _, re := range compileSet(patterns, false).each {
				re.MatchString(text)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			firstMatch(patterns, text)
		}
	})
}
