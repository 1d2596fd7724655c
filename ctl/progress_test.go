package ctl

import (
	"testing"

	"github.com/kconnect/kconnect/runtime/herder"
)

// TestProgressText checks the progress line against bars drawn by hand: 20 cells of '=' with a
// '>' head for the rows done and '.' for the rest, the percentage rounded down, the counts, and
// no bar without an estimate to fill it against.
func TestProgressText(t *testing.T) {
	for _, c := range []struct {
		p    herder.Progress
		want string
	}{
		{herder.Progress{Phase: "snapshot", TablesTotal: 2, RowsEstimated: 20000},
			"snapshot 0% [....................] (0/20000) rows 0/2 tables"},
		{herder.Progress{Phase: "snapshot", TablesDone: 1, TablesTotal: 2, RowsDone: 10000, RowsEstimated: 20000},
			"snapshot 50% [=========>..........] (10000/20000) rows 1/2 tables"},
		{herder.Progress{Phase: "snapshot", TablesDone: 2, TablesTotal: 2, RowsDone: 20000, RowsEstimated: 20000},
			"snapshot 100% [====================] (20000/20000) rows 2/2 tables"},
		// An estimate below the rows done: a full bar, and the count goes on.
		{herder.Progress{Phase: "snapshot", TablesTotal: 1, RowsDone: 25000, RowsEstimated: 20000},
			"snapshot 100% [====================] (25000/25000) rows 0/1 tables"},
		{herder.Progress{Phase: "load", RowsDone: 700},
			"load 700 rows"},
		{herder.Progress{RowsDone: 5, RowsEstimated: 20},
			"25% [====>...............] (5/20) rows"},
	} {
		if got := progressText(&c.p); got != c.want {
			t.Errorf("progressText(%+v)\n= %q\nwant %q", c.p, got, c.want)
		}
	}
}
