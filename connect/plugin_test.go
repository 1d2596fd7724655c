package connect

import "testing"

func TestSameTaskConfigsAreIndependentCopies(t *testing.T) {
	props := map[string]string{"topics": "t"}
	for _, tc := range []struct{ maxTasks, want int }{{3, 3}, {1, 1}, {0, 1}} {
		got := SameTaskConfigs(props, tc.maxTasks)
		if len(got) != tc.want {
			t.Fatalf("maxTasks %d: %d configs, want %d", tc.maxTasks, len(got), tc.want)
		}
		got[0]["topics"] = "changed"
		if props["topics"] != "t" || (len(got) > 1 && got[1]["topics"] != "t") {
			t.Fatalf("maxTasks %d: changing one config changed another: %v, %v", tc.maxTasks, props, got)
		}
	}
}
