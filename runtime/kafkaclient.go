package runtime

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// clientProps assembles the Kafka client properties of one role ("producer", "consumer" or
// "admin") as upstream does: the worker's top-level settings (bootstrap.servers, security),
// then the worker's <role>.* settings, then the connector's <role>.override.* settings.
func clientProps(worker, conn map[string]string, role string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.jaas.config",
		"ssl.truststore.location", "ssl.truststore.type", "ssl.keystore.location", "ssl.key.password", "client.id"} {
		if v, ok := worker[k]; ok {
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

var jaasOption = regexp.MustCompile(`(\w+)\s*=\s*"([^"]*)"`)

// clientOpts maps Java client properties onto franz-go options. Unknown properties are ignored,
// as the Java clients ignore (and log) unknown configs.
func clientOpts(props map[string]string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if bs := props["bootstrap.servers"]; bs != "" {
		opts = append(opts, kgo.SeedBrokers(splitList(bs)...))
	}
	if id := props["client.id"]; id != "" {
		opts = append(opts, kgo.ClientID(id))
	}
	proto := strings.ToUpper(props["security.protocol"])
	if proto == "SSL" || proto == "SASL_SSL" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if loc := props["ssl.truststore.location"]; loc != "" {
			pem, err := os.ReadFile(loc)
			if err != nil {
				return nil, fmt.Errorf("ssl.truststore.location: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ssl.truststore.location %s: no PEM certificates found (only PEM truststores are supported)", loc)
			}
			tc.RootCAs = pool
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if proto == "SASL_PLAINTEXT" || proto == "SASL_SSL" {
		mech := strings.ToUpper(props["sasl.mechanism"])
		if mech == "" {
			mech = "GSSAPI"
		}
		creds := map[string]string{}
		for _, m := range jaasOption.FindAllStringSubmatch(props["sasl.jaas.config"], -1) {
			creds[m[1]] = m[2]
		}
		user, pass := creds["username"], creds["password"]
		switch mech {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("sasl.mechanism %s is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 are)", mech)
		}
	}
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
	return opts, nil
}

var clientSettings = map[string]func(string) (kgo.Opt, error){
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
