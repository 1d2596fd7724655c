// Package lru is a bounded least-recently-used cache, like upstream's
// SynchronizedCache(LRUCache) that converters and transforms keep their derived schemas in.
package lru

import (
	"container/list"
	"sync"
)

// Cache holds at most a fixed number of entries, dropping the least recently used one first. It
// is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *entry, most recent first
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache of at most size entries; with size ≤ 0 it stores nothing.
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{max: size, order: list.New(), items: make(map[K]*list.Element, min(max(size, 0), 64))}
}

// Get returns the value stored under k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Put stores v under k, evicting the least recently used entry when the cache is full.
func (c *Cache[K, V]) Put(k K, v V) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*entry[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{key: k, val: v})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*entry[K, V]).key)
	}
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// GetBytes finds the entry keyed by raw's text without copying raw into a string.
func GetBytes[V any](c *Cache[string, V], raw []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(raw)]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[string, V]).val, true
	}
	var zero V
	return zero, false
}

// Cap returns the most entries the cache holds; 0 means it stores nothing.
func (c *Cache[K, V]) Cap() int { return max(c.max, 0) }
