package backend

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Opener opens a Store for a URL of its scheme; props are the connector's configuration, from
// which a backend reads its own keys (credentials, part sizes, Hadoop settings). The sinks pass
// store.url (or hdfs.url) as given, and s3://<s3.bucket.name> for the S3 sink, whose props then
// hold the endpoint as store.url.
type Opener func(ctx context.Context, url string, props map[string]string) (Store, error)

var (
	registryMu sync.RWMutex
	openers    = map[string]Opener{}
)

// Register makes Open serve URLs whose scheme is scheme (lower case, as "file", "hdfs", "s3").
// Backends call it from an init function; registering a scheme twice panics, being a wiring bug.
func Register(scheme string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	scheme = strings.ToLower(scheme)
	if _, dup := openers[scheme]; dup {
		panic(fmt.Sprintf("storage backend for scheme %q registered twice", scheme))
	}
	openers[scheme] = open
}

// Open opens the Store for rawURL with the backend registered for its scheme.
func Open(ctx context.Context, rawURL string, props map[string]string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("storage URL %q: %w", rawURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	registryMu.RLock()
	open, ok := openers[scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("storage URL %q: no backend for scheme %q (known: %s)", rawURL, scheme, strings.Join(Schemes(), ", "))
	}
	return open(ctx, rawURL, props)
}

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(openers))
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
