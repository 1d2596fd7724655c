package delta

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// deltaMaxPrecision is the largest decimal precision Delta tables hold; decimals without a
// connect.decimal.precision parameter get it (the Parquet writer would otherwise declare 64).
const deltaMaxPrecision = 38

const decimalPrecisionParam = "connect.decimal.precision"

// structField is a field of Delta's JSON schema serialisation.
type structField struct {
	Name     string         `json:"name"`
	Type     any            `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

type structType struct {
	Type   string        `json:"type"`
	Fields []structField `json:"fields"`
}

// deltaType is the Delta type of a Connect schema: a primitive type name or a struct, array or
// map object.
func deltaType(s *connect.Schema) (any, error) {
	switch s.Name {
	case connect.DecimalName:
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		p := deltaMaxPrecision
		if v, ok := s.Parameters.Get(decimalPrecisionParam); ok {
			if p, err = strconv.Atoi(v); err != nil || p > deltaMaxPrecision {
				return nil, fmt.Errorf("decimal precision %q is not a number up to %d", v, deltaMaxPrecision)
			}
		}
		return fmt.Sprintf("decimal(%d,%d)", p, scale), nil
	case connect.DateName:
		return "date", nil
	case connect.TimestampName:
		return "timestamp", nil
	case connect.TimeName:
		return nil, fmt.Errorf("delta tables have no time-of-day type for %s", connect.TimeName)
	}
	switch s.Type {
	case connect.TypeInt8:
		return "byte", nil
	case connect.TypeInt16:
		return "short", nil
	case connect.TypeInt32:
		return "integer", nil
	case connect.TypeInt64:
		return "long", nil
	case connect.TypeFloat32:
		return "float", nil
	case connect.TypeFloat64:
		return "double", nil
	case connect.TypeBoolean:
		return "boolean", nil
	case connect.TypeString:
		return "string", nil
	case connect.TypeBytes:
		return "binary", nil
	case connect.TypeStruct:
		return structOf(s)
	case connect.TypeArray:
		e, err := deltaType(s.ValSchema)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "elementType": e, "containsNull": s.ValSchema.Optional}, nil
	case connect.TypeMap:
		k, err := deltaType(s.KeySchema)
		if err != nil {
			return nil, err
		}
		v, err := deltaType(s.ValSchema)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "map", "keyType": k, "valueType": v, "valueContainsNull": s.ValSchema.Optional}, nil
	}
	return nil, fmt.Errorf("no delta type for %s", s.Type)
}

func structOf(s *connect.Schema) (*structType, error) {
	st := &structType{Type: "struct", Fields: make([]structField, 0, len(s.Fields))}
	for _, f := range s.Fields {
		t, err := deltaType(f.Schema)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		st.Fields = append(st.Fields, structField{Name: f.Name, Type: t, Nullable: f.Schema.Optional, Metadata: map[string]any{}})
	}
	return st, nil
}

// parseSchemaString reads a metaData schemaString.
func parseSchemaString(s string) (*structType, error) {
	st := &structType{}
	if err := json.Unmarshal([]byte(s), st); err != nil {
		return nil, fmt.Errorf("delta schemaString: %w", err)
	}
	return st, nil
}

// typeJSON is a Delta type's JSON, for comparing types.
func typeJSON(t any) string {
	b, _ := json.Marshal(t)
	return string(b)
}

// mergeSchema checks that rec fits the table schema and returns the table schema with rec's new
// fields appended (nil when rec adds none). New fields must be nullable and need evolve.
func mergeSchema(table, rec *structType, evolve bool) (*structType, error) {
	byName := map[string]structField{}
	for _, f := range table.Fields {
		byName[f.Name] = f
	}
	inRec := map[string]bool{}
	for _, f := range rec.Fields {
		inRec[f.Name] = true
	}
	for _, f := range table.Fields {
		if !f.Nullable && !inRec[f.Name] {
			return nil, fmt.Errorf("the record lacks the table's non-nullable column %s", f.Name)
		}
	}
	var added []structField
	for _, f := range rec.Fields {
		tf, ok := byName[f.Name]
		if !ok {
			added = append(added, f)
			continue
		}
		if typeJSON(tf.Type) != typeJSON(f.Type) {
			return nil, fmt.Errorf("field %s is %s in the record and %s in the table", f.Name, typeJSON(f.Type), typeJSON(tf.Type))
		}
		if f.Nullable && !tf.Nullable {
			return nil, fmt.Errorf("field %s is nullable in the record but not in the table", f.Name)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	if !evolve {
		return nil, fmt.Errorf("the record adds field %s to the table schema; set %s=add to add new columns", added[0].Name, schemaEvolutionConfig)
	}
	out := &structType{Type: "struct", Fields: append([]structField(nil), table.Fields...)}
	for _, f := range added {
		if !f.Nullable {
			return nil, fmt.Errorf("the record adds the non-nullable field %s; only optional fields can be added", f.Name)
		}
		out.Fields = append(out.Fields, f)
	}
	return out, nil
}

// fileSchema is the schema of the Parquet files of records of schema s: the fields not in
// partition columns, with decimals given Delta's precision when they have none.
func fileSchema(s *connect.Schema, partitionCols []string) (*connect.Schema, []int, error) {
	b := connect.StructBuilder().Name(s.Name)
	var idx []int
	for _, f := range s.Fields {
		if contains(partitionCols, f.Name) {
			continue
		}
		b.Field(f.Name, withPrecision(f.Schema))
		idx = append(idx, f.Index)
	}
	fs, err := b.Build()
	return fs, idx, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func withPrecision(s *connect.Schema) *connect.Schema {
	switch {
	case s.Name == connect.DecimalName:
		if _, ok := s.Parameters.Get(decimalPrecisionParam); ok {
			return s
		}
		c := *s
		c.Parameters = append(append(connect.Parameters(nil), s.Parameters...), connect.Parameter{Key: decimalPrecisionParam, Value: strconv.Itoa(deltaMaxPrecision)})
		return &c
	case s.Type == connect.TypeStruct:
		b := connect.StructBuilder().Name(s.Name)
		if s.Optional {
			b.Optional()
		}
		for _, f := range s.Fields {
			b.Field(f.Name, withPrecision(f.Schema))
		}
		return b.MustBuild()
	case s.Type == connect.TypeArray || s.Type == connect.TypeMap:
		c := *s
		c.ValSchema = withPrecision(s.ValSchema)
		return &c
	}
	return s
}

// partitionValue is a partition column's value as Delta serialises it in partitionValues.
func partitionValue(s *connect.Schema, v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	var out string
	switch x := v.(type) {
	case string:
		out = x
	case int8, int16, int32, int64, bool:
		out = fmt.Sprint(x)
	case time.Time:
		switch s.Name {
		case connect.DateName:
			out = x.UTC().Format("2006-01-02")
		case connect.TimestampName:
			out = x.UTC().Format("2006-01-02 15:04:05.000000")
		default:
			return nil, fmt.Errorf("partition column of type %s", s.Name)
		}
	default:
		return nil, fmt.Errorf("partition columns of Go type %T are not supported", v)
	}
	return &out, nil
}

// partitionDir is the Hive-style directory of a file with the given partition values.
func partitionDir(cols []string, vals map[string]*string) string {
	var b strings.Builder
	for _, c := range cols {
		v := "__HIVE_DEFAULT_PARTITION__"
		if p := vals[c]; p != nil {
			v = escapePartition(*p)
		}
		b.WriteString(escapePartition(c) + "=" + v + "/")
	}
	return b.String()
}

// escapePartition escapes what Hive escapes in partition directory names.
func escapePartition(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// logPath is a data file's path as add actions hold it: a relative URI.
func logPath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// columnStats gathers the per-file statistics of one top-level column; typed fields keep the
// per-record update free of allocations.
type columnStats struct {
	name       string
	kind       statKind
	has        bool
	minI, maxI int64
	minF, maxF float64
	minS, maxS string
	minT, maxT time.Time
	nulls      int64
	noMinMax   bool
}

type statKind uint8

const (
	statNone statKind = iota
	statInt
	statFloat
	statString
	statDate
	statTimestamp
)

// stringStatsMax is the length past which string min/max are left out (Delta truncates them).
const stringStatsMax = 32

func newColumnStats(f connect.Field) *columnStats {
	c := &columnStats{name: f.Name}
	switch {
	case f.Schema.Name == connect.DateName:
		c.kind = statDate
	case f.Schema.Name == connect.TimestampName:
		c.kind = statTimestamp
	case f.Schema.Name != "":
		c.kind = statNone
	case f.Schema.Type >= connect.TypeInt8 && f.Schema.Type <= connect.TypeInt64:
		c.kind = statInt
	case f.Schema.Type == connect.TypeFloat32 || f.Schema.Type == connect.TypeFloat64:
		c.kind = statFloat
	case f.Schema.Type == connect.TypeString:
		c.kind = statString
	}
	return c
}

func (c *columnStats) add(v any) {
	if v == nil {
		c.nulls++
		return
	}
	if c.kind == statNone || c.noMinMax {
		return
	}
	first := !c.has
	c.has = true
	switch c.kind {
	case statInt:
		n := toInt64(v)
		if first || n < c.minI {
			c.minI = n
		}
		if first || n > c.maxI {
			c.maxI = n
		}
	case statFloat:
		f := toFloat64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			c.noMinMax = true
			return
		}
		if first || f < c.minF {
			c.minF = f
		}
		if first || f > c.maxF {
			c.maxF = f
		}
	case statString:
		str := v.(string)
		if len(str) > stringStatsMax {
			c.noMinMax = true
			return
		}
		if first || str < c.minS {
			c.minS = str
		}
		if first || str > c.maxS {
			c.maxS = str
		}
	case statDate, statTimestamp:
		tm := v.(time.Time)
		if first || tm.Before(c.minT) {
			c.minT = tm
		}
		if first || tm.After(c.maxT) {
			c.maxT = tm
		}
	}
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

func toFloat64(v any) float64 {
	switch n := v.(type) {
	case float32:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// bounds are the column's min and max as stats JSON holds them.
func (c *columnStats) bounds() (lo, hi any) {
	switch c.kind {
	case statInt:
		return c.minI, c.maxI
	case statFloat:
		return c.minF, c.maxF
	case statString:
		return c.minS, c.maxS
	case statDate:
		return c.minT.UTC().Format("2006-01-02"), c.maxT.UTC().Format("2006-01-02")
	}
	return c.minT.UTC().Format("2006-01-02T15:04:05.000Z"), c.maxT.UTC().Format("2006-01-02T15:04:05.000Z")
}

// statsJSON is an add action's stats.
func statsJSON(n int64, cols []*columnStats) string {
	mins, maxs, nulls := map[string]any{}, map[string]any{}, map[string]any{}
	for _, c := range cols {
		nulls[c.name] = c.nulls
		if c.has && !c.noMinMax && c.kind != statNone {
			mins[c.name], maxs[c.name] = c.bounds()
		}
	}
	b, _ := json.Marshal(map[string]any{"numRecords": n, "minValues": mins, "maxValues": maxs, "nullCount": nulls})
	return string(b)
}
