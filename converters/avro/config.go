package avro

import (
	"fmt"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
)

// Configuration keys, as Confluent's AbstractKafkaSchemaSerDeConfig names them.
const (
	SchemaRegistryURLConfig          = "schema.registry.url"
	SchemaRegistryURLRandomizeConfig = "schema.registry.url.randomize"
	AutoRegisterSchemasConfig        = "auto.register.schemas"
	UseLatestVersionConfig           = "use.latest.version"
	LatestCompatibilityStrictConfig  = "latest.compatibility.strict"
	LatestCacheTTLConfig             = "latest.cache.ttl.sec"
	UseSchemaIDConfig                = "use.schema.id"
	UseLatestWithMetadataConfig      = "use.latest.with.metadata"
	ContextNameStrategyConfig        = "context.name.strategy"
	NormalizeSchemasConfig           = "normalize.schemas"
	KeySubjectNameStrategyConfig     = "key.subject.name.strategy"
	ValueSubjectNameStrategyConfig   = "value.subject.name.strategy"
	BasicAuthCredentialsSourceConfig = "basic.auth.credentials.source"
	BasicAuthUserInfoConfig          = "basic.auth.user.info"
	RegistryUserInfoConfig           = "schema.registry.basic.auth.user.info"
	BearerAuthCredentialsSource      = "bearer.auth.credentials.source"
	BearerAuthTokenConfig            = "bearer.auth.token"
	HTTPConnectTimeoutConfig         = "http.connect.timeout.ms"
	HTTPReadTimeoutConfig            = "http.read.timeout.ms"
	ProxyHostConfig                  = "proxy.host"
	ProxyPortConfig                  = "proxy.port"
	// RequestHeaderPrefix starts keys whose value is sent as an HTTP header with every request.
	RequestHeaderPrefix = "request.header."
	// SSLPrefix starts the TLS keys of the registry client: schema.registry.ssl.truststore.location …
	SSLPrefix = "schema.registry.ssl."
)

// TLS keys, after SSLPrefix.
const (
	sslTruststoreLocation     = "truststore.location"
	sslTruststoreType         = "truststore.type"
	sslTruststoreCertificates = "truststore.certificates"
	sslKeystoreLocation       = "keystore.location"
	sslKeystoreType           = "keystore.type"
	sslKeystoreCertChain      = "keystore.certificate.chain"
	sslKeystoreKey            = "keystore.key"
	sslKeyPassword            = "key.password"
	sslEndpointIdentification = "endpoint.identification.algorithm"
)

// Subject name strategies by their Confluent class names.
const (
	TopicNameStrategy       = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
	RecordNameStrategy      = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
	TopicRecordNameStrategy = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
)

var strategies = []string{TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy}

func strategyValidator() connect.Validator {
	return connect.ValidatorFunc("one of "+strings.Join(strategies, ", "), func(name string, v any) error {
		s, _ := v.(string)
		if strategyOf(s) == "" {
			return fmt.Errorf("Invalid value %s for configuration %s: kconnect knows the subject name strategies %s",
				s, name, strings.Join(strategies, ", "))
		}
		return nil
	})
}

// strategyOf accepts a strategy by class name or simple name.
func strategyOf(s string) string {
	for _, st := range strategies {
		if s == st || s == st[strings.LastIndexByte(st, '.')+1:] {
			return st
		}
	}
	return ""
}

var configDef = func() *connect.ConfigDef {
	boolKey := func(name, dflt, doc string) connect.ConfigKey {
		return connect.ConfigKey{Name: name, Type: connect.ConfigBoolean, Default: dflt, Importance: connect.Medium, Doc: doc}
	}
	def := connect.NewConfigDef().
		Define(connect.ConfigKey{Name: SchemaRegistryURLConfig, Type: connect.ConfigList, Required: true,
			Importance: connect.High, Validator: urlValidator(),
			Doc: "Comma-separated URLs of schema registry instances; a request that cannot reach one tries the next."}).
		Define(boolKey(SchemaRegistryURLRandomizeConfig, "false", "Start each converter at a random URL of the list, to spread load.")).
		Define(boolKey(AutoRegisterSchemasConfig, "true", "Register the schema of each record not yet registered under its "+
			"subject; when false, the schema must already be registered (it is looked up).")).
		Define(boolKey(UseLatestVersionConfig, "false", "Write with the latest registered version of the subject instead of "+
			"the record's own schema, and read with it.")).
		Define(boolKey(LatestCompatibilityStrictConfig, "true", "With use.latest.version, check that the latest version "+
			"can read data of the record's schema (backward compatible) before writing with it.")).
		Define(connect.ConfigKey{Name: LatestCacheTTLConfig, Type: connect.ConfigInt, Default: "-1", Importance: connect.Low,
			Doc: "How many seconds the latest version of a subject is remembered; -1 forever."}).
		Define(connect.ConfigKey{Name: UseSchemaIDConfig, Type: connect.ConfigInt, Default: "-1", Importance: connect.Low,
			Validator: connect.ValidatorFunc("-1", func(name string, v any) error {
				if n, _ := v.(int); n != -1 {
					return fmt.Errorf("Invalid value %d for configuration %s: kconnect registers or looks up the schema "+
						"of each record and does not write with a fixed schema id", n, name)
				}
				return nil
			}),
			Doc: "Upstream's fixed schema id for writing; kconnect does not support it, so it must be -1."}).
		Define(connect.ConfigKey{Name: UseLatestWithMetadataConfig, Type: connect.ConfigString, Importance: connect.Low,
			Validator: unsupported("kconnect does not select schema versions by metadata"),
			Doc:       "Upstream's choice of the latest version with given metadata; not supported, so it must be empty."}).
		Define(connect.ConfigKey{Name: ContextNameStrategyConfig, Type: connect.ConfigClass,
			Default: "io.confluent.kafka.serializers.context.NullContextNameStrategy", Importance: connect.Low,
			Validator: connect.OneOf("io.confluent.kafka.serializers.context.NullContextNameStrategy"),
			Doc:       "Upstream's schema contexts; kconnect uses the default context only (NullContextNameStrategy)."}).
		Define(boolKey(NormalizeSchemasConfig, "false", "Upstream's schema normalization on registration; kconnect "+
			"registers the exact text Java's converter registers and does not support it, so it must be false.")).
		Define(connect.ConfigKey{Name: KeySubjectNameStrategyConfig, Type: connect.ConfigClass, Default: TopicNameStrategy,
			Importance: connect.Medium, Validator: strategyValidator(),
			Doc: "How the subject of a key schema is named: TopicNameStrategy (<topic>-key), RecordNameStrategy " +
				"(the record's full name) or TopicRecordNameStrategy (<topic>-<record name>)."}).
		Define(connect.ConfigKey{Name: ValueSubjectNameStrategyConfig, Type: connect.ConfigClass, Default: TopicNameStrategy,
			Importance: connect.Medium, Validator: strategyValidator(),
			Doc: "How the subject of a value schema is named, as for keys (<topic>-value by default)."}).
		Define(connect.ConfigKey{Name: BasicAuthCredentialsSourceConfig, Type: connect.ConfigString, Default: "URL",
			Importance: connect.Medium, Validator: connect.OneOf("URL", "USER_INFO"),
			Doc: "Where the registry's basic-auth credentials come from: URL (user:password@ in the URL) or " +
				"USER_INFO (basic.auth.user.info). SASL_INHERIT is not supported."}).
		Define(connect.ConfigKey{Name: BasicAuthUserInfoConfig, Type: connect.ConfigPassword, Default: "",
			Importance: connect.Medium, Doc: "user:password for the registry, with basic.auth.credentials.source=USER_INFO."}).
		Define(connect.ConfigKey{Name: RegistryUserInfoConfig, Type: connect.ConfigPassword, Default: "",
			Importance: connect.Medium, Doc: "Deprecated name of basic.auth.user.info."}).
		Define(connect.ConfigKey{Name: BearerAuthCredentialsSource, Type: connect.ConfigString, Default: "STATIC_TOKEN",
			Importance: connect.Medium, Validator: connect.OneOf("STATIC_TOKEN"),
			Doc: "Where the bearer token comes from: STATIC_TOKEN (bearer.auth.token); the OAuth sources are not supported."}).
		Define(connect.ConfigKey{Name: BearerAuthTokenConfig, Type: connect.ConfigPassword, Default: "",
			Importance: connect.Medium, Doc: "A bearer token sent with every registry request, when set."}).
		Define(connect.ConfigKey{Name: HTTPConnectTimeoutConfig, Type: connect.ConfigInt, Default: "60000",
			Importance: connect.Low, Validator: connect.AtLeast(1), Doc: "How long connecting to the registry may take, in ms."}).
		Define(connect.ConfigKey{Name: HTTPReadTimeoutConfig, Type: connect.ConfigInt, Default: "60000",
			Importance: connect.Low, Validator: connect.AtLeast(1), Doc: "How long a registry request may take, in ms."}).
		Define(connect.ConfigKey{Name: ProxyHostConfig, Type: connect.ConfigString, Default: "",
			Importance: connect.Low, Doc: "HTTP proxy host for registry requests."}).
		Define(connect.ConfigKey{Name: ProxyPortConfig, Type: connect.ConfigInt, Default: "-1",
			Importance: connect.Low, Doc: "HTTP proxy port for registry requests."})
	for _, k := range []struct{ key, doc string }{
		{sslTruststoreLocation, "PEM file of the CA certificates to trust for the registry."},
		{sslTruststoreType, "PEM (the only type kconnect reads; convert JKS or PKCS12 stores to PEM)."},
		{sslTruststoreCertificates, "The trusted CA certificates as PEM text, instead of a file."},
		{sslKeystoreLocation, "PEM file with the client certificate chain and its unencrypted private key."},
		{sslKeystoreType, "PEM (the only type kconnect reads)."},
		{sslKeystoreCertChain, "The client certificate chain as PEM text, instead of a file."},
		{sslKeystoreKey, "The client's unencrypted private key as PEM text, instead of a file."},
		{sslEndpointIdentification, "https (default) checks the registry's host name against its certificate; empty skips that check."},
	} {
		def.Define(connect.ConfigKey{Name: SSLPrefix + k.key, Type: connect.ConfigString, Importance: connect.Low, Doc: k.doc})
	}
	def.Define(connect.ConfigKey{Name: SSLPrefix + sslKeyPassword, Type: connect.ConfigPassword, Importance: connect.Low,
		Doc: "Password of an encrypted private key; kconnect reads unencrypted PEM keys only, so it must be empty."})
	return def.Merge(avrodata.ConfigDef())
}()

// unsupported accepts only an empty value, explaining why anything else is refused.
func unsupported(why string) connect.Validator {
	return connect.ValidatorFunc("empty", func(name string, v any) error {
		if s, _ := v.(string); s != "" {
			return fmt.Errorf("Invalid value %s for configuration %s: %s", s, name, why)
		}
		return nil
	})
}

func urlValidator() connect.Validator {
	return connect.ValidatorFunc("non-empty list of http(s) URLs", func(name string, v any) error {
		urls, _ := v.([]string)
		if len(urls) == 0 {
			return fmt.Errorf("Invalid value for configuration %s: at least one schema registry URL is required", name)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return fmt.Errorf("Invalid value %s for configuration %s: not an http:// or https:// URL", redact(u), name)
			}
		}
		return nil
	})
}

// ConfigDef returns the converter's configuration keys.
func ConfigDef() *connect.ConfigDef { return configDef }

// settings is the parsed configuration.
type settings struct {
	urls            []string
	randomize       bool
	autoRegister    bool
	useLatest       bool
	latestStrict    bool
	latestTTL       time.Duration // 0: forever
	keyStrategy     string
	valueStrategy   string
	userInfo        string // user:password for basic auth, "" when none
	bearerToken     string
	connectTimeout  time.Duration
	readTimeout     time.Duration
	proxy           string
	headers         map[string]string
	tls             map[string]string // SSLPrefix keys, prefix removed
	keyPassword     string
	avro            avrodata.Config
	endpointCheckOn bool
}

func parseSettings(props map[string]string) (settings, error) {
	cfg, err := configDef.Parse(props)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		urls:           cfg.List(SchemaRegistryURLConfig),
		randomize:      cfg.Bool(SchemaRegistryURLRandomizeConfig),
		autoRegister:   cfg.Bool(AutoRegisterSchemasConfig),
		useLatest:      cfg.Bool(UseLatestVersionConfig),
		latestStrict:   cfg.Bool(LatestCompatibilityStrictConfig),
		keyStrategy:    strategyOf(cfg.String(KeySubjectNameStrategyConfig)),
		valueStrategy:  strategyOf(cfg.String(ValueSubjectNameStrategyConfig)),
		bearerToken:    cfg.Password(BearerAuthTokenConfig).Value(),
		connectTimeout: cfg.Millis(HTTPConnectTimeoutConfig),
		readTimeout:    cfg.Millis(HTTPReadTimeoutConfig),
		headers:        cfg.WithPrefix(RequestHeaderPrefix),
		tls:            cfg.WithPrefix(SSLPrefix),
		keyPassword:    cfg.Password(SSLPrefix + sslKeyPassword).Value(),
	}
	if ttl := cfg.Int(LatestCacheTTLConfig); ttl >= 0 {
		s.latestTTL = max(time.Duration(ttl)*time.Second, time.Nanosecond)
	}
	if cfg.Bool(NormalizeSchemasConfig) {
		return settings{}, &connect.FieldError{Name: NormalizeSchemasConfig, Msg: "Invalid value true for configuration " +
			NormalizeSchemasConfig + ": kconnect registers schemas as Java's converter writes them and does not normalize them"}
	}
	if strings.EqualFold(cfg.String(BasicAuthCredentialsSourceConfig), "USER_INFO") {
		s.userInfo = cfg.Password(BasicAuthUserInfoConfig).Value()
		if s.userInfo == "" {
			s.userInfo = cfg.Password(RegistryUserInfoConfig).Value()
		}
		if !strings.Contains(s.userInfo, ":") {
			return settings{}, &connect.FieldError{Name: BasicAuthUserInfoConfig, Msg: "Invalid value for configuration " +
				BasicAuthUserInfoConfig + ": basic.auth.credentials.source=USER_INFO needs user:password"}
		}
	}
	if host := cfg.String(ProxyHostConfig); host != "" {
		port := cfg.Int(ProxyPortConfig)
		if port <= 0 {
			return settings{}, &connect.FieldError{Name: ProxyPortConfig, Msg: "Invalid value for configuration " +
				ProxyPortConfig + ": proxy.host needs a proxy port"}
		}
		s.proxy = fmt.Sprintf("http://%s:%d", host, port)
	}
	s.endpointCheckOn = true
	if v, ok := s.tls[sslEndpointIdentification]; ok && strings.TrimSpace(v) == "" {
		s.endpointCheckOn = false
	}
	if s.avro, err = avrodata.ParseConfig(cfg); err != nil {
		return settings{}, err
	}
	return s, nil
}

// redact hides the password of a URL with credentials in it, for messages and logs.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.IndexByte(rest, '@')
	slash := strings.IndexByte(rest, '/')
	if at < 0 || (slash >= 0 && slash < at) {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***" + rest[at:]
}
