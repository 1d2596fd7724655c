// Package lru is the bounded least-recently-used cache the converters keep their parsed and
// rendered schemas in, like upstream's SynchronizedCache(LRUCache).
package lru

import (
	"container/list"
	"sync"
)

// Cache is a bounded least-recently-used cache, safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *lruEntry, most recent first
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache holding at most max entries; with max ≤ 0 it holds nothing.
func New[K comparable, V any](max int) *Cache[K, V] {
	return &Cache[K, V]{max: max, order: list.New(), items: make(map[K]*list.Element, min(max, 64))}
}

// Get returns the value cached for k and marks it most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Put caches v for k, evicting the least recently used entry when full.
func (c *Cache[K, V]) Put(k K, v V) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[K, V]).key)
	}
}

// Len returns the number of cached entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// GetBytes is Get for a string key given as bytes, without copying them into a string.
func GetBytes[V any](c *Cache[string, V], raw []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(raw)]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruEntry[string, V]).val, true
	}
	var zero V
	return zero, false
}

// Enabled reports whether the cache holds anything at all (its size is positive).
func (c *Cache[K, V]) Enabled() bool { return c.max > 0 }
