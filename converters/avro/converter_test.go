package avro

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/kconnect/kconnect/connect"
)

func configured(t testing.TB, props map[string]string, isKey bool) *Converter {
	t.Helper()
	c := New()
	if err := c.Configure(props, isKey); err != nil {
		t.Fatalf("Configure(%v): %v", props, err)
	}
	return c
}

func fake(t testing.TB, opts ...srfake.Option) *srfake.Registry {
	t.Helper()
	reg := srfake.New(opts...)
	t.Cleanup(reg.Close)
	return reg
}

var (
	rowSchema = connect.StructBuilder().Name("shop.public.orders.Value").Optional().
			Field("id", connect.Int32Schema).
			Field("customer", connect.StringSchema).
			Field("total", connect.DecimalSchema(2).Optional().MustBuild()).
			Field("placed", connect.TimestampSchema().MustBuild()).
			Field("tags", connect.ArrayBuilder(connect.StringSchema).Optional().MustBuild()).
			Field("attrs", connect.MapBuilder(connect.Int32Schema, connect.StringSchema).Optional().MustBuild()).
			MustBuild()
	envelopeSchema = connect.StructBuilder().Name("shop.public.orders.Envelope").Version(2).
			Field("before", rowSchema).
			Field("after", rowSchema).
			Field("op", connect.StringSchema).
			Field("ts_ms", connect.OptionalInt64Schema).
			MustBuild()
)

func row(id int32, customer string) *connect.Struct {
	r := connect.NewStruct(rowSchema)
	r.Set("id", id).Set("customer", customer).Set("total", dec("12.34")).
		Set("placed", time.UnixMilli(1700000000123).UTC()).Set("tags", []any{"a", "b"}).
		Set("attrs", map[any]any{int32(1): "one"})
	return r
}

func envelope(id int32) *connect.Struct {
	e := connect.NewStruct(envelopeSchema)
	e.Set("after", row(id, "ann")).Set("op", "c").Set("ts_ms", int64(1700000000999))
	return e
}

func dec(s string) connect.Decimal {
	d, err := connect.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestRoundTripWritesTheWireFormatAndRegistersOnce(t *testing.T) {
	reg := fake(t)
	props := map[string]string{SchemaRegistryURLConfig: reg.URL()}
	w := configured(t, props, false)
	data, err := w.FromConnectData("orders", envelopeSchema, envelope(1))
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != 0 {
		t.Fatalf("magic byte %d, want 0", data[0])
	}
	id := int(binary.BigEndian.Uint32(data[1:5]))
	registered, ok := reg.GetSchema("orders-value", 1)
	if !ok || registered.ID != id {
		t.Fatalf("subject orders-value version 1 = %+v (found %v), want id %d", registered, ok, id)
	}
	before := w.RegistryRequests()
	for i := range 100 {
		if _, err := w.FromConnectData("orders", envelopeSchema, envelope(int32(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.RegistryRequests() - before; n != 0 {
		t.Errorf("100 more records of a known schema made %d registry requests, want 0", n)
	}

	r := configured(t, props, false)
	schema, value, err := r.ToConnectData("orders", data)
	if err != nil {
		t.Fatal(err)
	}
	// The registry's version becomes the schema's version only when Connect gave it none.
	if schema.Name != envelopeSchema.Name || schema.Version != 2 {
		t.Errorf("read schema %s v%d, want %s v2", schema.Name, schema.Version, envelopeSchema.Name)
	}
	got := value.(*connect.Struct)
	want := envelope(1)
	after := got.Get("after").(*connect.Struct)
	for _, f := range rowSchema.Fields {
		if !connect.ValuesEqual(after.Get(f.Name), want.Get("after").(*connect.Struct).Get(f.Name)) {
			t.Errorf("after.%s = %v, want %v", f.Name, after.Get(f.Name), want.Get("after").(*connect.Struct).Get(f.Name))
		}
	}
	if got.Get("op") != "c" || got.Get("before") != nil || got.Get("ts_ms") != int64(1700000000999) {
		t.Errorf("read %v", got)
	}
	readsBefore := r.RegistryRequests()
	for range 100 {
		if _, _, err := r.ToConnectData("orders", data); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.RegistryRequests() - readsBefore; n != 0 {
		t.Errorf("100 more reads of a known schema id made %d registry requests, want 0", n)
	}
}

func TestReadGivesTheRegistryVersionToUnversionedSchemas(t *testing.T) {
	reg := fake(t)
	props := map[string]string{SchemaRegistryURLConfig: reg.URL()}
	w := configured(t, props, false)
	v1 := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	v2 := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).Field("b", connect.OptionalStringSchema).MustBuild()
	if _, err := w.FromConnectData("t", v1, connect.NewStruct(v1).Set("a", int32(1))); err != nil {
		t.Fatal(err)
	}
	data, err := w.FromConnectData("t", v2, connect.NewStruct(v2).Set("a", int32(2)))
	if err != nil {
		t.Fatal(err)
	}
	schema, _, err := configured(t, props, false).ToConnectData("t", data)
	if err != nil {
		t.Fatal(err)
	}
	if schema.Version != 2 {
		t.Errorf("schema of the second registered version read as version %d, want 2", schema.Version)
	}
}

func TestKeysUseTheKeySubjectAndStrategiesNameSubjects(t *testing.T) {
	key := connect.StructBuilder().Name("shop.Key").Field("id", connect.Int32Schema).MustBuild()
	for _, tc := range []struct {
		strategy, subject string
		isKey             bool
	}{
		{"", "orders-key", true},
		{"", "orders-value", false},
		{TopicNameStrategy, "orders-key", true},
		{RecordNameStrategy, "shop.Key", true},
		{"RecordNameStrategy", "shop.Key", false},
		{TopicRecordNameStrategy, "orders-shop.Key", false},
	} {
		reg := fake(t)
		props := map[string]string{SchemaRegistryURLConfig: reg.URL()}
		if tc.strategy != "" {
			props[KeySubjectNameStrategyConfig] = tc.strategy
			props[ValueSubjectNameStrategyConfig] = tc.strategy
		}
		c := configured(t, props, tc.isKey)
		data, err := c.FromConnectData("orders", key, connect.NewStruct(key).Set("id", int32(7)))
		if err != nil {
			t.Fatal(err)
		}
		if !reg.SubjectExists(tc.subject) {
			t.Errorf("strategy %q, key %v: subject %s not registered", tc.strategy, tc.isKey, tc.subject)
		}
		if _, v, err := configured(t, props, tc.isKey).ToConnectData("orders", data); err != nil || v.(*connect.Struct).Get("id") != int32(7) {
			t.Errorf("strategy %q: read back %v, %v", tc.strategy, v, err)
		}
	}
}

func TestRecordStrategiesNeedRecords(t *testing.T) {
	reg := fake(t)
	c := configured(t, map[string]string{SchemaRegistryURLConfig: reg.URL(),
		ValueSubjectNameStrategyConfig: RecordNameStrategy}, false)
	_, err := c.FromConnectData("t", connect.StringSchema, "x")
	if err == nil || !strings.Contains(err.Error(), "must be a record") {
		t.Fatalf("a string value with RecordNameStrategy: %v, want an error saying it must be a record", err)
	}
}

func TestAutoRegisterOffLooksSchemasUp(t *testing.T) {
	reg := fake(t)
	props := map[string]string{SchemaRegistryURLConfig: reg.URL(), AutoRegisterSchemasConfig: "false"}
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	v := connect.NewStruct(s).Set("a", int32(1))
	_, err := configured(t, props, false).FromConnectData("t", s, v)
	if err == nil || !strings.Contains(err.Error(), "subject t-value") {
		t.Fatalf("unregistered schema with auto.register.schemas=false: %v, want an error naming subject t-value", err)
	}
	if reg.SubjectExists("t-value") {
		t.Fatal("the converter registered a schema with auto.register.schemas=false")
	}
	// Registered by someone else (here: by a converter that may), the schema is found.
	if _, err := configured(t, map[string]string{SchemaRegistryURLConfig: reg.URL()}, false).FromConnectData("t", s, v); err != nil {
		t.Fatal(err)
	}
	if _, err := configured(t, props, false).FromConnectData("t", s, v); err != nil {
		t.Fatalf("registered schema with auto.register.schemas=false: %v", err)
	}
}

func TestUseLatestVersionWritesAndReadsWithTheLatest(t *testing.T) {
	reg := fake(t)
	plain := map[string]string{SchemaRegistryURLConfig: reg.URL()}
	// A record written with the first version, by a converter that registers it.
	v1 := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	old, err := configured(t, plain, false).FromConnectData("t", v1, connect.NewStruct(v1).Set("a", int32(9)))
	if err != nil {
		t.Fatal(err)
	}
	// The latest version has a field the records lack, with a default, and no connect.* metadata.
	latest := `{"type":"record","name":"V","namespace":"t","fields":[{"name":"a","type":"int"},` +
		`{"name":"extra","type":"string","default":"x"},{"name":"b","type":["null","string"],"default":null}]}`
	latestID, _, err := reg.RegisterSchema("t-value", sr.Schema{Schema: latest})
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]string{SchemaRegistryURLConfig: reg.URL(), UseLatestVersionConfig: "true", AutoRegisterSchemasConfig: "false"}
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).Field("b", connect.OptionalStringSchema).MustBuild()
	data, err := configured(t, props, false).FromConnectData("t", s, connect.NewStruct(s).Set("a", int32(5)).Set("b", "bee"))
	if err != nil {
		t.Fatal(err)
	}
	if id := int(binary.BigEndian.Uint32(data[1:5])); id != latestID {
		t.Fatalf("written with schema id %d, want the latest, %d", id, latestID)
	}
	schema, v, err := configured(t, plain, false).ToConnectData("t", data)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*connect.Struct)
	if st.Get("a") != int32(5) || st.Get("extra") != "x" || st.Get("b") != "bee" || schema.Field("extra") == nil {
		t.Errorf("read %v", st)
	}

	// The record written with the first version is read as the latest one.
	schema, v, err = configured(t, props, false).ToConnectData("t", old)
	if err != nil {
		t.Fatal(err)
	}
	if st := v.(*connect.Struct); st.Get("a") != int32(9) || st.Get("extra") != "x" || schema.Field("b") == nil {
		t.Errorf("old record read with the latest schema: %v (schema %s)", st, schema)
	}
}

func TestUseLatestVersionRefusesAnIncompatibleLatest(t *testing.T) {
	reg := fake(t)
	if _, _, err := reg.RegisterSchema("t-value", sr.Schema{Schema: `{"type":"record","name":"V","namespace":"t","fields":[{"name":"a","type":"string"}]}`}); err != nil {
		t.Fatal(err)
	}
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	props := map[string]string{SchemaRegistryURLConfig: reg.URL(), UseLatestVersionConfig: "true"}
	_, err := configured(t, props, false).FromConnectData("t", s, connect.NewStruct(s).Set("a", int32(1)))
	if err == nil || !strings.Contains(err.Error(), LatestCompatibilityStrictConfig) {
		t.Fatalf("writing int data with a latest schema of string: %v, want an error naming %s", err, LatestCompatibilityStrictConfig)
	}
}

func TestBasicAuthFromUserInfoAndURL(t *testing.T) {
	reg := fake(t)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:secret"))
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") == want {
			return false
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error_code":40101,"message":"Unauthorized"}`))
		return true
	})
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	v := connect.NewStruct(s).Set("a", int32(1))
	ok := []map[string]string{
		{SchemaRegistryURLConfig: reg.URL(), BasicAuthCredentialsSourceConfig: "USER_INFO", BasicAuthUserInfoConfig: "ann:secret"},
		{SchemaRegistryURLConfig: reg.URL(), BasicAuthCredentialsSourceConfig: "USER_INFO", RegistryUserInfoConfig: "ann:secret"},
		{SchemaRegistryURLConfig: strings.Replace(reg.URL(), "http://", "http://ann:secret@", 1)},
	}
	for _, props := range ok {
		if _, err := configured(t, props, false).FromConnectData("t", s, v); err != nil {
			t.Errorf("%v: %v", props, err)
		}
	}
	wrong := strings.Replace(reg.URL(), "http://", "http://ann:wrong@", 1)
	_, err := configured(t, map[string]string{SchemaRegistryURLConfig: wrong}, false).FromConnectData("t", s, v)
	if err == nil || !strings.Contains(err.Error(), "40101: Unauthorized") || connect.IsRetriable(err) {
		t.Fatalf("wrong password: %v, want a non-retriable error with the registry's message", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestRegistryRefusalNamesTheSubjectAndMessage(t *testing.T) {
	reg := fake(t)
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema"}`))
		return true
	})
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	_, err := configured(t, map[string]string{SchemaRegistryURLConfig: reg.URL()}, false).
		FromConnectData("orders", s, connect.NewStruct(s).Set("a", int32(1)))
	var de *connect.DataError
	if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), "orders-value") ||
		!strings.Contains(err.Error(), "incompatible with an earlier schema") {
		t.Fatalf("409 from the registry: %v, want a data error naming subject and message", err)
	}
}

func TestFailoverToTheNextURLAndRetriableWhenNoneAnswers(t *testing.T) {
	reg := fake(t)
	down := httptest.NewServer(http.NotFoundHandler())
	deadURL := down.URL
	down.Close()
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	v := connect.NewStruct(s).Set("a", int32(1))
	c := configured(t, map[string]string{SchemaRegistryURLConfig: deadURL + "," + reg.URL()}, false)
	data, err := c.FromConnectData("t", s, v)
	if err != nil {
		t.Fatalf("first URL down, second up: %v", err)
	}
	if _, _, err := c.ToConnectData("t", data); err != nil {
		t.Fatalf("reading after failover: %v", err)
	}

	_, err = configured(t, map[string]string{SchemaRegistryURLConfig: deadURL}, false).FromConnectData("t", s, v)
	if err == nil || !connect.IsRetriable(err) || !strings.Contains(err.Error(), deadURL) {
		t.Fatalf("no registry reachable: %v, want a retriable error naming the URL", err)
	}
}

func TestTLSWithPEMTruststoreAndHostnameCheck(t *testing.T) {
	reg := srfake.NewRegistry()
	srv := httptest.NewUnstartedServer(reg.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	cert := srv.TLS.Certificates[0].Certificate[0]
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	v := connect.NewStruct(s).Set("a", int32(1))
	write := func(url string, extra map[string]string) error {
		props := map[string]string{SchemaRegistryURLConfig: url}
		for k, v := range extra {
			props[k] = v
		}
		_, err := configured(t, props, false).FromConnectData("t", s, v)
		return err
	}
	if err := write(srv.URL, nil); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	trust := map[string]string{SSLPrefix + sslTruststoreLocation: ca, SSLPrefix + sslTruststoreType: "PEM"}
	if err := write(srv.URL, trust); err != nil {
		t.Fatalf("trusted CA: %v", err)
	}
	// The test certificate names 127.0.0.1 and example.com, not localhost.
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if err := write(byName, trust); err == nil {
		t.Fatal("a certificate for another host name was accepted")
	}
	trust[SSLPrefix+sslEndpointIdentification] = ""
	if err := write(byName, trust); err != nil {
		t.Fatalf("host name check off: %v", err)
	}
	if err := New().Configure(map[string]string{SchemaRegistryURLConfig: srv.URL,
		SSLPrefix + sslTruststoreType: "JKS", SSLPrefix + sslTruststoreLocation: ca}, false); err == nil ||
		!strings.Contains(err.Error(), "PEM") {
		t.Fatalf("a JKS truststore: %v, want an error asking for PEM", err)
	}
}

func TestRequestHeadersAndBearerToken(t *testing.T) {
	reg := fake(t, srfake.WithAuth("Bearer tok"))
	var seen []string
	reg.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		seen = append(seen, r.Header.Get("X-Tenant"))
		return false
	})
	s := connect.StructBuilder().Name("t.V").Field("a", connect.Int32Schema).MustBuild()
	c := configured(t, map[string]string{SchemaRegistryURLConfig: reg.URL(), BearerAuthTokenConfig: "tok",
		RequestHeaderPrefix + "X-Tenant": "blue"}, false)
	if _, err := c.FromConnectData("t", s, connect.NewStruct(s).Set("a", int32(1))); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[0] != "blue" {
		t.Errorf("X-Tenant headers seen: %q", seen)
	}
}

func TestSchemalessValuesTravelInTheAnythingRecord(t *testing.T) {
	reg := fake(t)
	props := map[string]string{SchemaRegistryURLConfig: reg.URL()}
	value := map[string]any{"id": int64(7), "tags": []any{"a", nil}, "nested": map[string]any{"ok": true}}
	data, err := configured(t, props, false).FromConnectData("events", nil, value)
	if err != nil {
		t.Fatal(err)
	}
	if latest, ok := reg.GetSchema("events-value", 1); !ok || !strings.Contains(latest.Schema.Schema, `"name":"Anything"`) {
		t.Fatalf("registered %+v, want upstream's Anything record", latest)
	}
	schema, got, err := configured(t, props, false).ToConnectData("events", data)
	if err != nil {
		t.Fatal(err)
	}
	if schema != nil || !connect.ValuesEqual(got, value) {
		t.Errorf("read back %v with schema %v, want %v without schema", got, schema, value)
	}
}

func TestNullsAndForeignBytes(t *testing.T) {
	reg := fake(t)
	c := configured(t, map[string]string{SchemaRegistryURLConfig: reg.URL()}, false)
	if b, err := c.FromConnectData("t", nil, nil); b != nil || err != nil {
		t.Errorf("null value: %v, %v; want a null message", b, err)
	}
	if b, err := c.FromConnectData("t", connect.OptionalStringSchema, nil); b != nil || err != nil {
		t.Errorf("null optional value: %v, %v; want a null message", b, err)
	}
	if _, err := c.FromConnectData("t", connect.StringSchema, nil); err == nil {
		t.Error("null value for a required schema was accepted")
	}
	if s, v, err := c.ToConnectData("t", nil); s != nil || v != nil || err != nil {
		t.Errorf("tombstone read as %v %v %v", s, v, err)
	}
	var de *connect.DataError
	if _, _, err := c.ToConnectData("t", []byte(`{"a":1}`)); !errors.As(err, &de) || !strings.Contains(err.Error(), "magic byte") {
		t.Errorf("JSON bytes: %v, want a data error about the magic byte", err)
	}
}

func TestConfigurationErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{}, SchemaRegistryURLConfig},
		{map[string]string{SchemaRegistryURLConfig: "localhost:8081"}, SchemaRegistryURLConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", ValueSubjectNameStrategyConfig: "com.example.Mine"}, ValueSubjectNameStrategyConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", BasicAuthCredentialsSourceConfig: "SASL_INHERIT"}, BasicAuthCredentialsSourceConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", BasicAuthCredentialsSourceConfig: "USER_INFO"}, BasicAuthUserInfoConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", UseSchemaIDConfig: "3"}, UseSchemaIDConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", NormalizeSchemasConfig: "true"}, NormalizeSchemasConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", UseLatestWithMetadataConfig: "app=1"}, UseLatestWithMetadataConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", ContextNameStrategyConfig: "com.example.Ctx"}, ContextNameStrategyConfig},
		{map[string]string{SchemaRegistryURLConfig: "http://r", "generalized.sum.type.support": "true"}, "generalized.sum.type.support"},
	} {
		err := New().Configure(tc.props, false)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%v: %v, want an error naming %s", tc.props, err, tc.key)
		}
	}
}
