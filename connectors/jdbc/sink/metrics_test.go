package sink

import (
	"slices"
	"testing"
)

// TestRowsPerTransactionMetric writes two batches, of three and one rows: the task reports one
// observation per committed transaction, with its row count.
func TestRowsPerTransactionMetric(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, ctx := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "rows_per_tx"))
		rb := newRecords()
		put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 2, "b", 1)),
			rb.rec("t", 0, nil, nil, rowSchema, row(t, 3, "c", 1)))
		put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 4, "d", 1)))
		if got := ctx.Observations("jdbc_sink_rows_per_transaction"); !slices.Equal(got, []float64{3, 1}) {
			t.Errorf("rows per transaction = %v, want [3 1]", got)
		}
	})
}
