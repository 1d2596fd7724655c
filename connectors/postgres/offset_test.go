package postgres

import (
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// Offsets written by Debezium itself must be readable, so a user can switch without a new snapshot.
func TestParseDebeziumOffsets(t *testing.T) {
	for _, c := range []struct {
		name     string
		json     string
		complete bool
		commit   int64
	}{
		{"1.x snapshot in progress", `{"lsn":24023128,"txId":555,"ts_usec":1559033904863000,"snapshot":true,"last_snapshot_record":false}`, false, 0},
		{"1.x last snapshot record", `{"lsn":24023128,"txId":555,"ts_usec":1559033904863000,"snapshot":true,"last_snapshot_record":true}`, true, 0},
		{"3.x snapshot in progress", `{"lsn":24023128,"txId":555,"ts_usec":1,"snapshot":"INITIAL","snapshot_completed":false,"last_snapshot_record":false}`, false, 0},
		{"streaming", `{"lsn_proc":24023200,"lsn_commit":24023128,"lsn":24023200,"txId":556,"ts_usec":1,"messageType":"UPDATE"}`, true, 24023128},
	} {
		raw, err := connect.DecodeJSON([]byte(c.json))
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseOffset(raw.(map[string]any))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if o.snapshotCompleted != c.complete || int64(o.lsnCommit) != c.commit || o.lsn != 24023128 && o.lsn != 24023200 {
			t.Errorf("%s: parsed %+v", c.name, o)
		}
	}
	if _, err := parseOffset(map[string]any{"lsn": "x"}); err == nil {
		t.Error("a non-numeric lsn was accepted")
	}
}
