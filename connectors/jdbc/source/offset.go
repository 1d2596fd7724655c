package source

import (
	"fmt"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Source partition and offset fields, as upstream's JdbcSourceConnectorConstants and
// TimestampIncrementingOffset name them, so offsets move between kconnect and Kafka Connect.
const (
	partitionTable    = "table"
	partitionProtocol = "protocol"
	partitionQuery    = "query"
	protocolV1        = "1"
	queryPartitionVal = "query"

	offsetIncrementing   = "incrementing"
	offsetTimestamp      = "timestamp"
	offsetTimestampNanos = "timestamp_nanos"
)

// tablePartition is the source partition of a table in upstream's offset protocol 1.
func tablePartition(t tableID) map[string]any {
	return map[string]any{partitionTable: t.fqn(), partitionProtocol: protocolV1}
}

// legacyTablePartition is the protocol 0 partition (bare table name), still read so that offsets
// written by old connector versions are honoured, and used by bulk mode as upstream does.
func legacyTablePartition(t tableID) map[string]any {
	return map[string]any{partitionTable: t.name}
}

// queryPartition is the source partition of a custom query.
func queryPartition() map[string]any {
	return map[string]any{partitionQuery: queryPartitionVal}
}

// position is where a table's reading stands: every row before it has been handed to the runtime.
type position struct {
	hasInc bool
	inc    int64
	hasTS  bool
	ts     time.Time
}

// toMap renders the position in upstream's offset format: the timestamp as whole milliseconds
// (floored) plus the nanoseconds within the second, as java.sql.Timestamp's getTime and getNanos.
func (p position) toMap() map[string]any {
	m := make(map[string]any, 3)
	if p.hasInc {
		m[offsetIncrementing] = p.inc
	}
	if p.hasTS {
		m[offsetTimestamp] = p.ts.UnixMilli()
		m[offsetTimestampNanos] = int64(p.ts.Nanosecond())
	}
	return m
}

// positionFromMap reads an offset stored by kconnect or by Confluent's connector.
func positionFromMap(m map[string]any) (position, error) {
	var p position
	if m == nil {
		return p, nil
	}
	inc, ok, err := connect.OffsetInt64(m, offsetIncrementing)
	if err != nil {
		return p, err
	}
	p.hasInc, p.inc = ok, inc
	ms, ok, err := connect.OffsetInt64(m, offsetTimestamp)
	if err != nil {
		return p, err
	}
	if ok {
		p.hasTS = true
		p.ts = time.UnixMilli(ms).UTC()
		nanos, ok, err := connect.OffsetInt64(m, offsetTimestampNanos)
		if err != nil {
			return p, err
		}
		if ok {
			if nanos < 0 || nanos > 999_999_999 {
				return p, fmt.Errorf("offset field %s: %d is not within a second", offsetTimestampNanos, nanos)
			}
			sec := ms / 1000
			if ms%1000 < 0 {
				sec--
			}
			p.ts = time.Unix(sec, nanos).UTC()
		}
	}
	return p, nil
}
