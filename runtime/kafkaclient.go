package runtime

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientProps assembles the Kafka client properties of one role ("producer", "consumer" or
// "admin") as upstream does: the worker's top-level settings (bootstrap.servers, client.id and
// the security settings: security.protocol, ssl.*, sasl.*), then the worker's <role>.* settings,
// then the connector's <role>.override.* settings. Upstream's task clients take only the
// <role>.* security settings; inheriting the top-level ones spares repeating them three times,
// and a <role>.* setting still wins.
func clientProps(worker, conn map[string]string, role string) map[string]string {
	out := map[string]string{}
	for k, v := range worker {
		if k == "bootstrap.servers" || k == "client.id" || k == securityProtocolKey ||
			strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.") {
			out[k] = v
		}
	}
	for k, v := range worker {
		if strings.HasPrefix(k, role+".") {
			out[k[len(role)+1:]] = v
		}
	}
	for k, v := range conn {
		if strings.HasPrefix(k, role+".override.") {
			out[k[len(role)+len(".override."):]] = v
		}
	}
	return out
}

// clientOpts maps Java client properties onto franz-go options. A property kconnect does not
// use is logged once per process, as the Java clients log unknown configs.
func clientOpts(props map[string]string) ([]kgo.Opt, error) { return kafkaClientOpts(props, nil) }

// kafkaClientOpts is clientOpts for a client whose writes of records obey lease, when set.
func kafkaClientOpts(props map[string]string, lease Lease) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if bs := props["bootstrap.servers"]; bs != "" {
		opts = append(opts, kgo.SeedBrokers(splitList(bs)...))
	}
	if id := props["client.id"]; id != "" {
		opts = append(opts, kgo.ClientID(id))
	}
	sec, err := securityOpts(props, lease)
	if err != nil {
		return nil, err
	}
	opts = append(opts, sec...)
	for key, apply := range clientSettings {
		if v, ok := props[key]; ok {
			opt, err := apply(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("%s=%q: %w", key, v, err)
			}
			if opt != nil {
				opts = append(opts, opt)
			}
		}
	}
	warnUnusedClientKeys(props)
	return opts, nil
}

// usedClientKeys are the client properties kconnect reads besides clientSettings: here, in
// securityOpts, and in the sink task runner (group.instance.id). The serializers
// are kconnect's own (bytes), as upstream's worker overrides them.
var usedClientKeys = func() map[string]bool {
	m := map[string]bool{"bootstrap.servers": true, "client.id": true, "group.instance.id": true,
		"key.serializer": true, "value.serializer": true, "key.deserializer": true, "value.deserializer": true}
	for _, k := range securityKeys {
		m[k] = true
	}
	return m
}()

// warnedClientKeys holds the unused client keys already logged.
var warnedClientKeys sync.Map

func warnUnusedClientKeys(props map[string]string) {
	for k := range props {
		if _, ok := clientSettings[k]; ok || usedClientKeys[k] {
			continue
		}
		if _, seen := warnedClientKeys.LoadOrStore(k, true); !seen {
			slog.Warn("Kafka client setting is not used by kconnect; ignored", "key", k)
		}
	}
}

var clientSettings = map[string]func(string) (kgo.Opt, error){
	// Read by the sink task's loop; checked here so a bad value fails with the key named.
	"max.poll.records": func(v string) (kgo.Opt, error) {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return nil, fmt.Errorf("must be a whole number of at least 1")
		}
		return nil, nil
	},
	"linger.ms": func(v string) (kgo.Opt, error) {
		ms, err := strconv.Atoi(v)
		return kgo.ProducerLinger(time.Duration(ms) * time.Millisecond), err
	},
	"batch.size": func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		if err == nil && n <= 0 {
			n = 1
		}
		return kgo.ProducerBatchMaxBytes(int32(n)), err
	},
	"buffer.memory": func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		return kgo.MaxBufferedBytes(max(n, 1)), err
	},
	"compression.type": func(v string) (kgo.Opt, error) {
		codecs := map[string]kgo.CompressionCodec{
			"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
			"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
		}
		c, ok := codecs[strings.ToLower(v)]
		if !ok {
			return nil, fmt.Errorf("unknown compression type")
		}
		return kgo.ProducerBatchCompression(c), nil
	},
	"acks": func(v string) (kgo.Opt, error) {
		switch strings.ToLower(v) {
		case "all", "-1":
			return kgo.RequiredAcks(kgo.AllISRAcks()), nil
		case "1", "0":
			return nil, errIdempotenceNeedsAll
		}
		return nil, fmt.Errorf("acks must be all, -1, 1 or 0")
	},
	"fetch.max.bytes": func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		return kgo.FetchMaxBytes(int32(n)), err
	},
	"max.partition.fetch.bytes": func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		return kgo.FetchMaxPartitionBytes(int32(n)), err
	},
	"session.timeout.ms": func(v string) (kgo.Opt, error) {
		ms, err := strconv.Atoi(v)
		return kgo.SessionTimeout(time.Duration(ms) * time.Millisecond), err
	},
	"heartbeat.interval.ms": func(v string) (kgo.Opt, error) {
		ms, err := strconv.Atoi(v)
		return kgo.HeartbeatInterval(time.Duration(ms) * time.Millisecond), err
	},
	"metadata.max.age.ms": func(v string) (kgo.Opt, error) {
		ms, err := strconv.Atoi(v)
		return kgo.MetadataMaxAge(time.Duration(ms) * time.Millisecond), err
	},
	"isolation.level": func(v string) (kgo.Opt, error) {
		switch strings.ToLower(v) {
		case "read_committed":
			return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
		case "read_uncommitted":
			return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
		}
		return nil, fmt.Errorf("isolation.level must be read_committed or read_uncommitted")
	},
	"auto.offset.reset": func(v string) (kgo.Opt, error) {
		switch strings.ToLower(v) {
		case "earliest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), nil
		case "latest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), nil
		}
		return nil, fmt.Errorf("auto.offset.reset must be earliest or latest")
	},
}

// errIdempotenceNeedsAll explains why acks other than all are refused: kconnect's producers are
// idempotent so retries cannot duplicate or reorder records, and that requires acks=all.
var errIdempotenceNeedsAll = fmt.Errorf("kconnect producers are idempotent and require acks=all")
