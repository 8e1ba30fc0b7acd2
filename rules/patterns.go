package rules

import (
	"crypto/sha256"
	"regexp"
	"strings"

	"github.com/triagebot/triagebot/internal/lru"
)

// Configured patterns are compiled once per distinct list, not on every event: a configuration
// near the size limit holds thousands of them, and compiling them again for each event cost tens
// of milliseconds of CPU (issue 8.4). The cache is keyed by the list's content, so it gives what
// compiling would give: the rules stay a function of their input.
var compiled = newPatternCache(64)

// matchAny reports whether s matches one of the patterns (whole, any case). A pattern that does
// not compile (a Config built in code, not parsed) matches nothing.
func matchAny(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return false
	}
	re := compiled.get(patterns, true).whole
	return re != nil && re.MatchString(s)
}

// compileAll compiles patterns for matching anywhere in a text, skipping invalid ones.
func compileAll(patterns []string) []*regexp.Regexp {
	if len(patterns) == 0 {
		return nil
	}
	return compiled.get(patterns, false).each
}

// firstMatch is the first of the patterns found anywhere in one of the texts, or nil. (Joining
// them into one alternation was measured slower with Go's regexp: thousands of patterns make
// one large NFA.)
func firstMatch(patterns []string, texts ...string) *regexp.Regexp {
	for _, re := range compileAll(patterns) {
		for _, t := range texts {
			if re.MatchString(t) {
				return re
			}
		}
	}
	return nil
}

// patternSet is one list of patterns, compiled.
type patternSet struct {
	whole *regexp.Regexp   // whole-string match of any valid pattern (nil: none is valid)
	each  []*regexp.Regexp // each valid pattern, for matching anywhere
}

// patternCache keeps the compiled forms of the most recently used pattern lists, by content.
type patternCache struct {
	sets *lru.Cache[[32]byte, patternSet]
}

func newPatternCache(max int) *patternCache {
	return &patternCache{sets: lru.New[[32]byte, patternSet](max)}
}

func (c *patternCache) get(patterns []string, whole bool) patternSet {
	h := sha256.New()
	if whole {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	for _, p := range patterns {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var key [32]byte
	h.Sum(key[:0])
	if v, ok := c.sets.Get(key); ok {
		return v
	}
	v := compileSet(patterns, whole) // outside the lock: a large list takes a while
	c.sets.Put(key, v)
	return v
}

// compileSet compiles the valid patterns: for whole matches (short strings such as label names)
// into one alternation, else each on its own.
func compileSet(patterns []string, whole bool) patternSet {
	var s patternSet
	var valid []string
	for _, p := range patterns {
		re, err := compilePattern(p, whole)
		if err != nil {
			continue
		}
		valid = append(valid, p)
		if !whole {
			s.each = append(s.each, re)
		}
	}
	if whole && len(valid) > 0 {
		if re, err := compilePattern("(?:"+strings.Join(valid, ")|(?:")+")", true); err == nil {
			s.whole = re
		}
	}
	return s
}
