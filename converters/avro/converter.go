// Package avro is kconnect's io.confluent.connect.avro.AvroConverter: Connect data to Avro in
// Confluent's wire format (byte 0, the schema's 4-byte big-endian registry id, the Avro binary
// encoding) with the schema registered in a Confluent-compatible schema registry, and back.
//
// The Connect ↔ Avro mapping is package avrodata's, which matches Confluent's AvroData: a Java
// worker and kconnect register the same schema text for the same Connect schema and read each
// other's records; records written by other Avro producers read as upstream reads them. Registry
// calls go through github.com/riferrei/srclient, one client per URL of schema.registry.url with
// failover between them; every answer is cached, so converting records of known schemas makes no
// registry calls at all.
//
// Upstream's AvroConverter is not a header converter, and neither is this one.
//
// Refused with an error naming the key, rather than ignored: use.schema.id, normalize.schemas,
// use.latest.with.metadata, schema contexts, SASL_INHERIT basic auth, OAuth bearer sources, JKS and
// PKCS12 stores (PEM only), encrypted private keys, generalized.sum.type.support and
// discard.type.doc.default. Where kconnect differs on purpose: bytes after an Avro value are an
// error (upstream ignores them by default), map entries are written in key order (upstream in Java
// hash order), and the schema's version under a subject is looked up by id, which also works with
// registries that match schema texts byte for byte.
package avro

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	hamba "github.com/hamba/avro/v2"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
	"github.com/kconnect/kconnect/internal/lru"
)

// Class is the upstream class name this converter is compatible with.
const Class = "io.confluent.connect.avro.AvroConverter"

// Version is reported by GET /connector-plugins for the Avro converter.
const Version = "0.1.0"

// magic is the first byte of every value in Confluent's wire format.
const magic = 0

// Converter is the Avro key/value converter. Create it with New and Configure it; it is safe for
// concurrent use (Configure excepted).
type Converter struct {
	s        settings
	isKey    bool
	strategy string
	reg      *registry
	data     *avrodata.Data

	// Writing: the registry id and compiled encoder per Connect schema and subject.
	writers   *lru.Cache[writeKey, *writeTarget]
	ids       *lru.Cache[subjectText, int] // registered ids by subject and schema text
	latests   *lru.Cache[string, *latestSchema]
	lastWrite atomic.Pointer[lastWrite]

	// Reading: the Connect schema and compiled decoder per schema id and topic.
	readers  *lru.Cache[readKey, *readPlan]
	byID     *lru.Cache[int, *avrodata.Schema]
	versions *lru.Cache[readKey, int] // by schema id and subject
	lastRead atomic.Pointer[readPlan]
}

type writeKey struct {
	schema  *connect.Schema
	subject string
}

type subjectText struct{ subject, text string }

type writeTarget struct {
	id      int
	enc     *avrodata.Encoder
	fetched time.Time // when the latest version it writes with was fetched (use.latest.version)
}

// lastWrite remembers the last target: consecutive records of a topic nearly always share
// their schema, and comparing two pointers and a string costs less than any cache lookup.
type lastWrite struct {
	schema *connect.Schema
	topic  string
	target *writeTarget
}

type latestSchema struct {
	id      int
	version int
	schema  *avrodata.Schema
	fetched time.Time
}

type readKey struct {
	id    int
	topic string // or subject
}

type readPlan struct {
	id     int
	topic  string
	schema *connect.Schema
	dec    *avrodata.Decoder
	// latest is the schema of the subject's latest version, when use.latest.version reads data
	// written with another one: values are projected onto it.
	latest  *connect.Schema
	fetched time.Time // when latest was fetched
}

// New returns an unconfigured converter; Configure must be called before use, as the registry
// URL has no default.
func New() *Converter { return &Converter{} }

// Version returns the plugin version.
func (c *Converter) Version() string { return Version }

// ConfigDef returns the converter's configuration keys.
func (c *Converter) ConfigDef() *connect.ConfigDef { return configDef }

// Configure applies props (schema.registry.url and the rest) for keys or values.
func (c *Converter) Configure(props map[string]string, isKey bool) error {
	s, err := parseSettings(props)
	if err != nil {
		return fmt.Errorf("configure %s: %w", Class, err)
	}
	reg, err := newRegistry(s)
	if err != nil {
		return fmt.Errorf("configure %s: %w", Class, err)
	}
	size := max(1, s.avro.CacheSize)
	*c = Converter{
		s: s, isKey: isKey, reg: reg, data: avrodata.New(s.avro),
		strategy: s.valueStrategy,
		writers:  lru.New[writeKey, *writeTarget](size),
		ids:      lru.New[subjectText, int](size),
		latests:  lru.New[string, *latestSchema](size),
		readers:  lru.New[readKey, *readPlan](size),
		byID:     lru.New[int, *avrodata.Schema](size),
		versions: lru.New[readKey, int](size),
	}
	if isKey {
		c.strategy = s.keyStrategy
	}
	return nil
}

// RegistryRequests returns how many HTTP requests the converter has made to the registry.
func (c *Converter) RegistryRequests() int64 { return c.reg.requests.Load() }

// FromConnectData serializes value with its schema; a null value is a null message (a tombstone).
func (c *Converter) FromConnectData(topic string, schema *connect.Schema, value any) ([]byte, error) {
	return c.AppendFromConnectData(nil, topic, schema, value)
}

// AppendFromConnectData is FromConnectData writing into dst, for callers that recycle buffers.
func (c *Converter) AppendFromConnectData(dst []byte, topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		if schema == nil || schema.Optional {
			return nil, nil
		}
		return nil, &connect.DataError{Msg: fmt.Sprintf("convert %s to Avro for topic %s: null value for required schema %s",
			c.what(), topic, schema)}
	}
	t, err := c.target(topic, schema)
	if err != nil {
		return nil, fmt.Errorf("convert %s to Avro for topic %s: %w", c.what(), topic, err)
	}
	start := len(dst)
	dst = append(dst, magic, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[start+1:], uint32(t.id))
	if dst, err = t.enc.Append(dst, value); err != nil {
		return nil, fmt.Errorf("convert %s to Avro for topic %s: %w", c.what(), topic, err)
	}
	return dst, nil
}

func (c *Converter) what() string {
	if c.isKey {
		return "key"
	}
	return "value"
}

func (c *Converter) target(topic string, schema *connect.Schema) (*writeTarget, error) {
	if l := c.lastWrite.Load(); l != nil && l.schema == schema && l.topic == topic && !c.stale(l.target.fetched) {
		return l.target, nil
	}
	a, err := c.data.FromConnectSchema(schema)
	if err != nil {
		return nil, err
	}
	subject, err := c.subject(topic, a)
	if err != nil {
		return nil, err
	}
	key := writeKey{schema, subject}
	t, ok := c.writers.Get(key)
	if !ok || c.stale(t.fetched) {
		if t, err = c.newTarget(schema, a, subject); err != nil {
			return nil, err
		}
		c.writers.Put(key, t)
	}
	c.lastWrite.Store(&lastWrite{schema: schema, topic: topic, target: t})
	return t, nil
}

// stale reports whether a plan made with the latest version fetched at fetched is older than
// latest.cache.ttl.sec.
func (c *Converter) stale(fetched time.Time) bool {
	return c.s.useLatest && c.s.latestTTL > 0 && time.Since(fetched) > c.s.latestTTL
}

func (c *Converter) newTarget(schema *connect.Schema, a *avrodata.Schema, subject string) (*writeTarget, error) {
	text := a.String()
	if c.s.useLatest {
		latest, err := c.latest(subject)
		if err != nil {
			return nil, err
		}
		if c.s.latestStrict {
			if err := backwardCompatible(latest.schema, a, subject); err != nil {
				return nil, err
			}
		}
		enc, err := c.data.Encoder(schema, latest.schema)
		if err != nil {
			return nil, fmt.Errorf("write with the latest schema of subject %s (id %d): %w", subject, latest.id, err)
		}
		return &writeTarget{id: latest.id, enc: enc, fetched: latest.fetched}, nil
	}
	enc, err := c.data.Encoder(schema, a)
	if err != nil {
		return nil, err
	}
	key := subjectText{subject, text}
	id, ok := c.ids.Get(key)
	if !ok {
		if c.s.autoRegister {
			id, err = c.reg.register(subject, text)
		} else {
			id, _, err = c.reg.lookup(subject, text)
		}
		if err != nil {
			return nil, err
		}
		c.ids.Put(key, id)
	}
	return &writeTarget{id: id, enc: enc}, nil
}

func (c *Converter) latest(subject string) (*latestSchema, error) {
	if l, ok := c.latests.Get(subject); ok && (c.s.latestTTL == 0 || time.Since(l.fetched) <= c.s.latestTTL) {
		return l, nil
	}
	id, text, version, err := c.reg.latest(subject)
	if err != nil {
		return nil, err
	}
	parsed, err := avrodata.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("latest schema of subject %s (id %d): %w", subject, id, err)
	}
	l := &latestSchema{id: id, version: version, schema: parsed, fetched: time.Now()}
	c.latests.Put(subject, l)
	c.byID.Put(id, parsed)
	return l, nil
}

// backwardCompatible checks, as upstream's latest.compatibility.strict does, that the latest
// registered schema can read data written with the record's schema.
func backwardCompatible(latest, record *avrodata.Schema, subject string) error {
	reader, err := hamba.Parse(latest.String())
	if err != nil {
		return fmt.Errorf("latest schema of subject %s: %w", subject, err)
	}
	writer, err := hamba.Parse(record.String())
	if err != nil {
		return fmt.Errorf("record schema %s: %w", record.Name, err)
	}
	if err := hamba.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
		return &connect.DataError{Msg: fmt.Sprintf("the latest schema of subject %s cannot read records of schema %s (%v); "+
			"set %s=false to write with it anyway", subject, record, err, LatestCompatibilityStrictConfig)}
	}
	return nil
}

// subject names the subject of a schema by the configured strategy.
func (c *Converter) subject(topic string, a *avrodata.Schema) (string, error) {
	if c.strategy == TopicNameStrategy {
		return topic + "-" + c.what(), nil
	}
	if a.Type != avrodata.Record {
		return "", &connect.DataError{Msg: fmt.Sprintf("with %s = %s, the message %s must be a record, not an Avro %s",
			c.strategyKey(), c.strategy, c.what(), a.Type)}
	}
	if c.strategy == RecordNameStrategy {
		return a.Name, nil
	}
	return topic + "-" + a.Name, nil
}

func (c *Converter) strategyKey() string {
	if c.isKey {
		return KeySubjectNameStrategyConfig
	}
	return ValueSubjectNameStrategyConfig
}

// ToConnectData deserializes a message; nil data (a tombstone) is a null value without schema.
func (c *Converter) ToConnectData(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if len(data) < 5 || data[0] != magic {
		return nil, nil, &connect.DataError{Msg: fmt.Sprintf("convert %s of topic %s from Avro: unknown magic byte: "+
			"the data was not written in the schema registry's wire format", c.what(), topic)}
	}
	id := int(binary.BigEndian.Uint32(data[1:5]))
	p, err := c.reader(topic, id)
	if err != nil {
		return nil, nil, fmt.Errorf("convert %s of topic %s from Avro: %w", c.what(), topic, err)
	}
	v, err := p.dec.Decode(data[5:])
	if err == nil && p.latest != nil {
		v, err = project(v, p.schema, p.latest)
		if err != nil {
			err = fmt.Errorf("read as the latest version of the subject: %w", err)
		}
	}
	if err != nil {
		return nil, nil, &connect.DataError{Msg: fmt.Sprintf("convert %s of topic %s from Avro (schema id %d): %v",
			c.what(), topic, id, err)}
	}
	if p.latest != nil {
		return p.latest, v, nil
	}
	return p.schema, v, nil
}

func (c *Converter) reader(topic string, id int) (*readPlan, error) {
	if p := c.lastRead.Load(); p != nil && p.id == id && p.topic == topic && !c.stale(p.fetched) {
		return p, nil
	}
	key := readKey{id, topic}
	p, ok := c.readers.Get(key)
	if !ok || c.stale(p.fetched) {
		var err error
		if p, err = c.newReader(topic, id); err != nil {
			return nil, err
		}
		c.readers.Put(key, p)
	}
	c.lastRead.Store(p)
	return p, nil
}

func (c *Converter) newReader(topic string, id int) (*readPlan, error) {
	a, ok := c.byID.Get(id)
	if !ok {
		text, err := c.reg.schemaByID(id)
		if err != nil {
			return nil, err
		}
		if a, err = avrodata.Parse(text); err != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, err)
		}
		c.byID.Put(id, a)
	}
	subject, err := c.subject(topic, a)
	if err != nil {
		return nil, err
	}
	// Upstream gives the Connect schema the registry's version of the schema under the subject,
	// unless the schema says its own (connect.version). Asking by id, rather than by schema text as
	// upstream does, finds it also in registries that compare texts byte for byte (Apicurio).
	vkey := readKey{id, subject}
	version, ok := c.versions.Get(vkey)
	if !ok {
		var found bool
		if version, found, err = c.reg.version(id, subject); err != nil {
			return nil, err
		}
		if !found {
			return nil, &connect.DataError{Msg: fmt.Sprintf("schema id %d is not registered under subject %s, "+
				"which the %s names for topic %s", id, subject, c.strategyKey(), topic)}
		}
		c.versions.Put(vkey, version)
	}
	schema, err := c.data.ToConnectSchema(a, version)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	dec, err := c.data.Decoder(a, schema)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	p := &readPlan{id: id, topic: topic, schema: schema, dec: dec}
	if c.s.useLatest {
		latest, err := c.latest(subject)
		if err != nil {
			return nil, err
		}
		p.fetched = latest.fetched
		if latest.id != id {
			if p.latest, err = c.data.ToConnectSchema(latest.schema, latest.version); err != nil {
				return nil, fmt.Errorf("latest schema of subject %s (id %d): %w", subject, latest.id, err)
			}
		}
	}
	return p, nil
}
