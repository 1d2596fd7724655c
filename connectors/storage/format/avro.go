package format

import (
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
)

// avroBlockBytes is the uncompressed size of an object container block (Avro's default sync
// interval is 64000 bytes).
const avroBlockBytes = 64000

// avroFormat writes Avro object container files whose schema is the value schema mapped as
// Confluent's AvroData maps it.
type avroFormat struct {
	codec ocf.CodecName
	data  *avrodata.Data
}

func newAvro(o Options) (Format, error) {
	var codec ocf.CodecName
	switch o.AvroCodec {
	case "", "null":
		codec = ocf.Null
	case "deflate":
		codec = ocf.Deflate
	case "snappy":
		codec = ocf.Snappy
	default:
		return nil, fmt.Errorf("avro codec %q is not one of null, deflate, snappy", o.AvroCodec)
	}
	if o.AvroData == nil {
		return nil, fmt.Errorf("avro format needs an Avro mapping")
	}
	return &avroFormat{codec: codec, data: o.AvroData}, nil
}

func (*avroFormat) Extension() string { return ".avro" }
func (*avroFormat) NeedsSchema() bool { return true }

func (f *avroFormat) NewWriter(w io.Writer, schema *connect.Schema) (RecordWriter, error) {
	a, err := f.data.FromConnectSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("map schema %s to Avro: %w", schema, err)
	}
	text, err := a.Text()
	if err != nil {
		return nil, err
	}
	enc, err := f.data.Encoder(schema, a)
	if err != nil {
		return nil, err
	}
	// The header carries AvroData's schema text verbatim rather than hamba's rendering of it,
	// so readers see the connect.* properties Java writers put there.
	parsed, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parse Avro schema %s: %w", text, err)
	}
	oe, err := ocf.NewEncoderWithSchema(parsed, w, ocf.WithCodec(f.codec), ocf.WithBlockLength(1<<30),
		ocf.WithBlockSize(avroBlockBytes),
		ocf.WithSchemaMarshaler(func(avro.Schema) ([]byte, error) { return []byte(text), nil }))
	if err != nil {
		return nil, fmt.Errorf("start Avro container: %w", err)
	}
	return &avroWriter{enc: enc, ocf: oe}, nil
}

type avroWriter struct {
	enc *avrodata.Encoder
	ocf *ocf.Encoder
	buf []byte
}

func (a *avroWriter) Write(rec *connect.SinkRecord) error {
	b, err := a.enc.Append(a.buf[:0], rec.Value)
	if err != nil {
		return fmt.Errorf("encode %s record at offset %d as Avro: %w", rec.Topic, rec.Offset, err)
	}
	a.buf = b
	_, err = a.ocf.Write(b)
	return err
}

func (a *avroWriter) Close() error { return a.ocf.Close() }
