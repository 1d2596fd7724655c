package avro

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/riferrei/srclient"

	"github.com/kconnect/kconnect/connect"
)

// registry is the converter's view of the schema registry: the four calls a converter makes,
// over every configured URL. A request that cannot reach a URL (connection refused, timeout, 5xx)
// goes to the next one; an answer from the registry, even an error, is final. The converter caches
// every answer, so each call here happens once per schema.
type registry struct {
	urls    []string
	clients []*srclient.SchemaRegistryClient
	next    atomic.Int32 // the URL to try first: the one that answered last
	// requests counts the HTTP requests made, so tests and benchmarks can check that steady state
	// makes none.
	requests atomic.Int64
}

func newRegistry(s settings) (*registry, error) {
	transport, err := newTransport(s)
	if err != nil {
		return nil, err
	}
	r := &registry{urls: s.urls}
	httpClient := &http.Client{Timeout: s.readTimeout, Transport: &countingTransport{next: transport, n: &r.requests}}
	for _, u := range s.urls {
		c := srclient.NewSchemaRegistryClient(strings.TrimRight(u, "/"), srclient.WithClient(httpClient))
		// The converter keeps its own caches, with the answers it needs; srclient's would only grow.
		c.CachingEnabled(false)
		if s.userInfo != "" {
			user, pass, _ := strings.Cut(s.userInfo, ":")
			c.SetCredentials(user, pass)
		} else if s.bearerToken != "" {
			c.SetBearerToken(s.bearerToken)
		}
		r.clients = append(r.clients, c)
	}
	if s.randomize && len(r.clients) > 1 {
		r.next.Store(int32(rand.IntN(len(r.clients))))
	}
	return r, nil
}

// newTransport builds the HTTP transport: TLS, proxy, connect timeout and extra headers.
func newTransport(s settings) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: s.connectTimeout}).DialContext
	tlsConfig, err := newTLSConfig(s)
	if err != nil {
		return nil, err
	}
	t.TLSClientConfig = tlsConfig
	if s.proxy != "" {
		p, err := url.Parse(s.proxy)
		if err != nil {
			return nil, &connect.FieldError{Name: ProxyHostConfig, Msg: fmt.Sprintf("Invalid proxy %s: %v", s.proxy, err)}
		}
		t.Proxy = http.ProxyURL(p)
	}
	if len(s.headers) == 0 {
		return t, nil
	}
	return &headerTransport{next: t, headers: s.headers}, nil
}

type headerTransport struct {
	next    http.RoundTripper
	headers map[string]string
}

func (h *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	return h.next.RoundTrip(req)
}

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// do runs call against the URLs in turn, starting with the last one that answered, until one
// answers. It returns which URL that was, for messages.
func (r *registry) do(call func(*srclient.SchemaRegistryClient) error) (string, error) {
	start := int(r.next.Load())
	var err error
	for i := range r.clients {
		idx := (start + i) % len(r.clients)
		if err = call(r.clients[idx]); err == nil || !unreachable(err) {
			r.next.Store(int32(idx))
			return redact(r.urls[idx]), err
		}
	}
	return strings.Join(redactAll(r.urls), ", "), err
}

func redactAll(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = redact(u)
	}
	return out
}

// unreachable reports whether err means the registry was not reached or could not answer (a
// network error, a timeout, a 5xx), so another URL or a later retry may succeed.
func unreachable(err error) bool {
	var se srclient.Error
	if errors.As(err, &se) {
		return se.Code >= 500 && se.Code < 600 || se.Code >= 50000 && se.Code < 60000
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || strings.HasPrefix(err.Error(), "5")
}

// registryError words a failed call: what was asked, of which subject or id, where, and what the
// registry said. Failures to reach it are retriable; the registry's own answers are not.
func registryError(what, where string, err error) error {
	var se srclient.Error
	msg := err.Error()
	if errors.As(err, &se) && se.Message != "" {
		msg = se.Message
		if se.Code != 0 {
			msg = fmt.Sprintf("error %d: %s", se.Code, se.Message)
		}
	}
	e := fmt.Errorf("schema registry %s: %s: %s", where, what, msg)
	if unreachable(err) {
		return connect.Retriable(e)
	}
	return &connect.DataError{Msg: e.Error()}
}

// schemaByID returns the schema text registered under id.
func (r *registry) schemaByID(id int) (string, error) {
	var text string
	where, err := r.do(func(c *srclient.SchemaRegistryClient) error {
		s, err := c.GetSchema(id)
		if err == nil {
			text = s.Schema()
		}
		return err
	})
	if err != nil {
		return "", registryError(fmt.Sprintf("get schema id %d", id), where, err)
	}
	return text, nil
}

// register registers text under subject (or finds it registered) and returns its id.
func (r *registry) register(subject, text string) (int, error) {
	var id int
	where, err := r.do(func(c *srclient.SchemaRegistryClient) error {
		s, err := c.CreateSchema(subject, text, srclient.Avro)
		if err == nil {
			id = s.ID()
		}
		return err
	})
	if err != nil {
		return 0, registryError("register schema under subject "+subject, where, err)
	}
	return id, nil
}

// lookup finds text among the versions of subject and returns its id and version.
func (r *registry) lookup(subject, text string) (id, version int, err error) {
	where, err := r.do(func(c *srclient.SchemaRegistryClient) error {
		s, err := c.LookupSchema(subject, text, srclient.Avro)
		if err == nil {
			id, version = s.ID(), s.Version()
		}
		return err
	})
	if err != nil {
		return 0, 0, registryError("look up schema under subject "+subject, where, err)
	}
	return id, version, nil
}

// version returns the version under which id is registered in subject (0, false when it is not).
func (r *registry) version(id int, subject string) (int, bool, error) {
	var version int
	var found bool
	where, err := r.do(func(c *srclient.SchemaRegistryClient) error {
		pairs, err := c.GetSubjectVersionsById(id)
		for _, p := range pairs {
			if p.Subject == subject {
				version, found = p.Version, true
			}
		}
		return err
	})
	if err != nil {
		return 0, false, registryError(fmt.Sprintf("get the subjects and versions of schema id %d", id), where, err)
	}
	return version, found, nil
}

// latest returns the latest version of subject: its id, text and version.
func (r *registry) latest(subject string) (id int, text string, version int, err error) {
	where, err := r.do(func(c *srclient.SchemaRegistryClient) error {
		s, err := c.GetLatestSchema(subject)
		if err == nil {
			id, text, version = s.ID(), s.Schema(), s.Version()
		}
		return err
	})
	if err != nil {
		return 0, "", 0, registryError("get the latest schema of subject "+subject, where, err)
	}
	return id, text, version, nil
}
