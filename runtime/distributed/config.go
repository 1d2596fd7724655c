package distributed

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/cluster"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Distributed worker keys, as upstream's DistributedConfig names them.
const (
	GroupID            = "group.id"
	ConnectProtocol    = "connect.protocol"
	SessionTimeout     = "session.timeout.ms"
	HeartbeatInterval  = "heartbeat.interval.ms"
	RebalanceTimeout   = "rebalance.timeout.ms"
	MaxDelay           = "scheduled.rebalance.max.delay.ms"
	RetryBackoff       = "retry.backoff.ms"
	RetryBackoffMax    = "retry.backoff.max.ms"
	KeyTTL             = "inter.worker.key.ttl.ms"
	SignatureAlgorithm = "inter.worker.signature.algorithm"
	KeyAlgorithm       = "inter.worker.key.generation.algorithm"
	VerifyAlgorithms   = "inter.worker.verification.algorithms"
	KeySize            = "inter.worker.key.size"
	ExactlyOnceSource  = "exactly.once.source.support"
)

// Values of exactly.once.source.support.
const (
	// EOSDisabled runs source tasks without transactions and fences nothing.
	EOSDisabled = "disabled"
	// EOSPreparing fences source connectors' old tasks but runs them without transactions.
	EOSPreparing = "preparing"
	// EOSEnabled fences and runs source tasks in transactions.
	EOSEnabled = "enabled"
)

// macs are the Mac algorithms kconnect signs and verifies with, by their javax.crypto names.
var macs = map[string]func() hash.Hash{
	"HmacSHA256": sha256.New,
	"HmacSHA1":   sha1.New,
	"HmacSHA512": sha512.New,
	"HmacSHA384": sha512.New384,
}

// Config is a distributed worker's parsed settings.
type Config struct {
	Protocol           cluster.Protocol
	Member             cluster.MemberConfig
	KeyTTL             time.Duration
	SignatureAlgorithm string
	KeyAlgorithm       string
	KeyBytes           int
	VerifyAlgorithms   []string
	ConfigTopic        kafkalog.Topic
	OffsetTopic        kafkalog.Topic
	StatusTopic        kafkalog.Topic
	// ExactlyOnce is exactly.once.source.support: EOSDisabled, EOSPreparing or EOSEnabled.
	ExactlyOnce string
}

var macValidator = connect.ValidatorFunc("one of "+strings.Join(connect.SortedKeys(macs), ", "), func(name string, v any) error {
	names, ok := v.([]string)
	if !ok {
		names = []string{fmt.Sprint(v)}
	}
	for _, n := range names {
		if _, ok := macs[n]; !ok {
			return fmt.Errorf("Invalid value %s for configuration %s: kconnect supports the Mac algorithms %s", n, name, strings.Join(connect.SortedKeys(macs), ", "))
		}
	}
	return nil
})

func configDef() *connect.ConfigDef {
	long := func(name, def, doc string, least float64) connect.ConfigKey {
		return connect.ConfigKey{Name: name, Type: connect.ConfigLong, Default: def, Validator: connect.AtLeast(least), Importance: connect.Medium, Doc: doc}
	}
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: GroupID, Type: connect.ConfigString, Required: true, Validator: connect.NonEmptyString(), Importance: connect.High,
			Doc: "The Connect group this worker belongs to; every worker of a cluster has the same."}).
		Define(connect.ConfigKey{Name: ConnectProtocol, Type: connect.ConfigString, Default: "sessioned", Importance: connect.Low,
			Doc: "The newest Connect group protocol offered: eager, compatible or sessioned."}).
		Define(long(SessionTimeout, "10000", "How long the group coordinator waits for a heartbeat before it removes the worker.", 1)).
		Define(long(HeartbeatInterval, "3000", "How often the worker heartbeats to the group coordinator.", 1)).
		Define(long(RebalanceTimeout, "60000", "How long each worker may take to join a rebalance.", 1)).
		Define(long(MaxDelay, "300000", "How long a departed worker's connectors and tasks wait for it before they move.", 0)).
		Define(long(RetryBackoff, "100", "The first pause before joining again after a failed attempt.", 0)).
		Define(long(RetryBackoffMax, "1000", "The longest pause before joining again after failed attempts.", 1)).
		Define(long(KeyTTL, "3600000", "How long the leader uses a session key before it writes a new one.", 1)).
		Define(connect.ConfigKey{Name: SignatureAlgorithm, Type: connect.ConfigString, Default: "HmacSHA256", Validator: macValidator, Importance: connect.Low,
			Doc: "The Mac algorithm internal requests are signed with."}).
		Define(connect.ConfigKey{Name: KeyAlgorithm, Type: connect.ConfigString, Default: "HmacSHA256", Validator: macValidator, Importance: connect.Low,
			Doc: "The algorithm session keys are generated for."}).
		Define(connect.ConfigKey{Name: VerifyAlgorithms, Type: connect.ConfigList, Default: "HmacSHA256", Validator: macValidator, Importance: connect.Low,
			Doc: "The Mac algorithms internal requests may be signed with."}).
		Define(connect.ConfigKey{Name: ExactlyOnceSource, Type: connect.ConfigString, Default: EOSDisabled,
			Validator: connect.OneOf(EOSDisabled, EOSPreparing, EOSEnabled), Importance: connect.High,
			Doc: "Exactly-once support for source connectors (KIP-618): preparing has the leader fence the producers of a source connector's previous tasks whenever its task configs change, which every worker must do before any enables it; enabled also runs source tasks in transactions, with their offsets, and starts them only once that fencing happened."}).
		Define(connect.ConfigKey{Name: KeySize, Type: connect.ConfigInt, Default: "256", Validator: connect.AtLeast(8), Importance: connect.Low,
			Doc: "The size of session keys in bits."})
}

// ParseConfig reads a distributed worker's settings from its properties.
func ParseConfig(props map[string]string) (Config, error) {
	cfg, err := configDef().Parse(props)
	if err != nil {
		return Config{}, err
	}
	protocol, err := cluster.ParseProtocol(cfg.String(ConnectProtocol))
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Protocol:           protocol,
		KeyTTL:             cfg.Millis(KeyTTL),
		SignatureAlgorithm: cfg.String(SignatureAlgorithm),
		KeyAlgorithm:       cfg.String(KeyAlgorithm),
		KeyBytes:           cfg.Int(KeySize) / 8,
		VerifyAlgorithms:   cfg.List(VerifyAlgorithms),
		ExactlyOnce:        cfg.String(ExactlyOnceSource),
		Member: cluster.MemberConfig{
			GroupID:           cfg.String(GroupID),
			Protocol:          protocol,
			SessionTimeout:    cfg.Millis(SessionTimeout),
			HeartbeatInterval: cfg.Millis(HeartbeatInterval),
			RebalanceTimeout:  cfg.Millis(RebalanceTimeout),
			MaxDelay:          cfg.Millis(MaxDelay),
			RetryBackoff:      cfg.Millis(RetryBackoff),
			RetryBackoffMax:   cfg.Millis(RetryBackoffMax),
		},
	}
	for _, t := range []struct {
		dst  *kafkalog.Topic
		kind kafkalog.Kind
	}{{&c.ConfigTopic, kafkalog.ConfigTopic}, {&c.OffsetTopic, kafkalog.OffsetTopic}, {&c.StatusTopic, kafkalog.StatusTopic}} {
		if *t.dst, err = kafkalog.TopicFromWorker(props, t.kind); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}
