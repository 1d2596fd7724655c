package transforms

import "github.com/kconnect/kconnect/connect"

var insertHeaderConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "header", Type: connect.ConfigString, Required: true, Importance: connect.High,
		Doc: "Name of the header."}).
	Define(connect.ConfigKey{Name: "value.literal", Type: connect.ConfigString, Required: true, Importance: connect.High,
		Doc: "Literal value of the header on every record, read as Connect's Values.parseString reads text (numbers, booleans, dates, arrays and maps are typed)."})

// InsertHeader adds a header with a literal value to every record
// (org.apache.kafka.connect.transforms.InsertHeader).
type InsertHeader struct {
	header connect.Header
}

// ConfigDef returns InsertHeader's configuration keys.
func (*InsertHeader) ConfigDef() *connect.ConfigDef { return insertHeaderConfigDef }

// Configure reads the header name and parses its value.
func (t *InsertHeader) Configure(props map[string]string) error {
	cfg, err := insertHeaderConfigDef.Parse(props)
	if err != nil {
		return err
	}
	schema, value := parseLiteral(cfg.String("value.literal"))
	t.header = connect.Header{Key: cfg.String("header"), Schema: schema, Value: value}
	return nil
}

// Apply adds the header.
func (t *InsertHeader) Apply(rec *connect.Record) (*connect.Record, error) {
	return withHeaders(rec, addHeader(rec.Headers, t.header)), nil
}

// Close releases nothing.
func (*InsertHeader) Close() error { return nil }
