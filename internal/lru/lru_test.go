package lru

import "testing"

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](2)
	c.Put("a", 1)
	c.Put("b", 2)
	if _, ok := c.Get("a"); !ok { // a is now more recent than b
		t.Fatal("a missing")
	}
	c.Put("c", 3)
	if _, ok := c.Get("b"); ok {
		t.Error("b survived although it was the least recently used")
	}
	if v, ok := GetBytes(c, []byte("a")); !ok || v != 1 {
		t.Errorf("a = %d, %v; want 1, true", v, ok)
	}
	if c.Len() != 2 || c.Cap() != 2 {
		t.Errorf("len %d cap %d, want 2 and 2", c.Len(), c.Cap())
	}
}

func TestZeroSizeStoresNothing(t *testing.T) {
	c := New[int, int](0)
	c.Put(1, 1)
	if _, ok := c.Get(1); ok || c.Len() != 0 {
		t.Error("a zero-size cache stored an entry")
	}
}
