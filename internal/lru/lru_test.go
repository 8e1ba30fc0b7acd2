package lru_test

import (
	"testing"

	"github.com/triagebot/triagebot/internal/lru"
)

func TestCacheForgetsTheLeastRecentlyUsed(t *testing.T) {
	c := lru.New[string, int](2)
	c.Put("a", 1)
	c.Put("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("a = %d, %v", v, ok)
	}
	c.Put("c", 3) // b goes
	if _, ok := c.Get("b"); ok {
		t.Error("b is still there")
	}
	if got := c.GetOrAdd("a", func() int { return 9 }); got != 1 {
		t.Errorf("GetOrAdd(a) = %d, want the existing 1", got)
	}
	if got := c.GetOrAdd("d", func() int { return 4 }); got != 4 { // c goes
		t.Errorf("GetOrAdd(d) = %d, want 4", got)
	}
	if _, ok := c.Get("c"); ok || c.Len() != 2 {
		t.Errorf("c still there or %d entries", c.Len())
	}
}
