package format

import (
	"bytes"
	"fmt"
	"io"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// jsonFormat writes one JSON document per line, as the JsonConverter without schemas prints the
// value (upstream's JsonFormat).
type jsonFormat struct{ conv *jsonconverter.Converter }

func newJSON() (Format, error) {
	c := jsonconverter.New()
	if err := c.Configure(map[string]string{jsonconverter.SchemasEnableConfig: "false"}, false); err != nil {
		return nil, fmt.Errorf("configure JSON format: %w", err)
	}
	return jsonFormat{conv: c}, nil
}

func (jsonFormat) Extension() string { return ".json" }
func (jsonFormat) NeedsSchema() bool { return false }

func (f jsonFormat) NewWriter(w io.Writer, _ *connect.Schema) (RecordWriter, error) {
	return &lineWriter{w: w, encode: func(dst []byte, rec *connect.SinkRecord) ([]byte, error) {
		return f.conv.AppendFromConnectData(dst, rec.Topic, rec.ValueSchema, rec.Value)
	}, sep: []byte{'\n'}}, nil
}

// stringFormat writes each value's string form (Java's toString) on a line.
type stringFormat struct{}

func (stringFormat) Extension() string { return ".txt" }
func (stringFormat) NeedsSchema() bool { return false }

func (stringFormat) NewWriter(w io.Writer, _ *connect.Schema) (RecordWriter, error) {
	conv := converters.NewStringConverter()
	return &lineWriter{w: w, encode: func(dst []byte, rec *connect.SinkRecord) ([]byte, error) {
		b, err := conv.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value)
		return append(dst, b...), err
	}, sep: []byte{'\n'}}, nil
}

// byteArrayFormat writes the raw bytes of each value followed by a separator.
type byteArrayFormat struct {
	sep []byte
	ext string
}

func newByteArray(o Options) (Format, error) {
	return byteArrayFormat{sep: o.ByteArraySeparator, ext: o.ByteArrayExtension}, nil
}

func (f byteArrayFormat) Extension() string { return f.ext }
func (byteArrayFormat) NeedsSchema() bool   { return false }

func (f byteArrayFormat) NewWriter(w io.Writer, _ *connect.Schema) (RecordWriter, error) {
	return &lineWriter{w: w, encode: func(dst []byte, rec *connect.SinkRecord) ([]byte, error) {
		switch v := rec.Value.(type) {
		case []byte:
			return append(dst, v...), nil
		case nil:
			return dst, nil
		}
		return nil, fmt.Errorf("ByteArrayFormat needs byte array values (ByteArrayConverter), got %T", rec.Value)
	}, sep: f.sep}, nil
}

// lineWriter gathers encoded values in a buffer and hands it to w in large writes.
type lineWriter struct {
	w      io.Writer
	buf    bytes.Buffer
	encode func(dst []byte, rec *connect.SinkRecord) ([]byte, error)
	sep    []byte
}

const lineFlush = 64 << 10

func (l *lineWriter) Write(rec *connect.SinkRecord) error {
	b, err := l.encode(l.buf.AvailableBuffer(), rec)
	if err != nil {
		return fmt.Errorf("encode %s record at offset %d: %w", rec.Topic, rec.Offset, err)
	}
	l.buf.Write(b)
	l.buf.Write(l.sep)
	if l.buf.Len() >= lineFlush {
		return l.flush()
	}
	return nil
}

func (l *lineWriter) flush() error {
	if _, err := l.w.Write(l.buf.Bytes()); err != nil {
		return err
	}
	l.buf.Reset()
	return nil
}

func (l *lineWriter) Close() error { return l.flush() }
