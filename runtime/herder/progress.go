package herder

import "github.com/kconnect/kconnect/connect"

// Progress is kconnect's addition to connector and task status: how far a snapshot or a long
// load is. It is present only while a task reports one, so upstream clients see the status they
// expect.
type Progress struct {
	Phase         string `json:"phase,omitempty"`
	TablesDone    int64  `json:"tables_done"`
	TablesTotal   int64  `json:"tables_total"`
	RowsDone      int64  `json:"rows_done"`
	RowsEstimated int64  `json:"rows_estimated"`
}

// ProgressOf converts a task's report; nil stays nil.
func ProgressOf(p *connect.Progress) *Progress {
	if p == nil {
		return nil
	}
	return &Progress{Phase: p.Phase, TablesDone: p.TablesDone, TablesTotal: p.TablesTotal, RowsDone: p.RowsDone, RowsEstimated: p.RowsEstimated}
}

// SumProgress is a connector's progress: the sum over its tasks that report one, nil when none
// does. The phase is kept when all of them name the same one.
func SumProgress(tasks []TaskState) *Progress {
	var sum *Progress
	for _, t := range tasks {
		p := t.Progress
		if p == nil {
			continue
		}
		if sum == nil {
			sum = &Progress{Phase: p.Phase}
		} else if sum.Phase != p.Phase {
			sum.Phase = ""
		}
		sum.TablesDone += p.TablesDone
		sum.TablesTotal += p.TablesTotal
		sum.RowsDone += p.RowsDone
		sum.RowsEstimated += p.RowsEstimated
	}
	return sum
}
