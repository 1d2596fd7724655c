package runtime

import "testing"

// BenchmarkNoteAck measures what the pending-records check adds to each acknowledged record of
// an exactly-once task: a lock and a map lookup, once its partition is checked and before.
func BenchmarkNoteAck(b *testing.B) {
	for _, checked := range []bool{true, false} {
		name := "unchecked"
		if checked {
			name = "checked"
		}
		b.Run(name, func(b *testing.B) {
			x := &sourceTxn{checked: map[pendingPartition]bool{{"topic", 3}: checked}}
			b.ReportAllocs()
			for i := range b.N {
				x.noteAck("topic", 3, int64(i))
			}
		})
	}
}
