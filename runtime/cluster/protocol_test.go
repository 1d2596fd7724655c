package cluster

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// The fixtures in testdata/protocol.json were written by Kafka Connect's own classes
// (testdata/gen): bytes, and what Kafka Connect decodes from them.
type protocolFixtures struct {
	Metadata []struct {
		Name     string `json:"name"`
		Protocol string `json:"protocol"`
		Hex      string `json:"hex"`
		Decoded  struct {
			URL          string           `json:"url"`
			ConfigOffset int64            `json:"config_offset"`
			Allocation   *fixtureAssigned `json:"allocation"`
		} `json:"decoded"`
	} `json:"metadata"`
	Assignments []struct {
		Name    string          `json:"name"`
		Hex     string          `json:"hex"`
		Decoded fixtureAssigned `json:"decoded"`
	} `json:"assignments"`
	JoinProtocols []struct {
		Setting string `json:"setting"`
		Offered []struct {
			Name string `json:"name"`
			Hex  string `json:"hex"`
		} `json:"offered"`
	} `json:"join_protocols"`
}

// fixtureAssigned is upstream's view of a decoded ExtendedAssignment.
type fixtureAssigned struct {
	Version           int16           `json:"version"`
	Error             int16           `json:"error"`
	Leader            string          `json:"leader"`
	LeaderURL         string          `json:"leader_url"`
	ConfigOffset      int64           `json:"config_offset"`
	Connectors        []string        `json:"connectors"`
	Tasks             []herder.TaskID `json:"tasks"`
	RevokedConnectors []string        `json:"revoked_connectors"`
	RevokedTasks      []herder.TaskID `json:"revoked_tasks"`
	DelayMs           int32           `json:"delay_ms"`
}

func (f fixtureAssigned) assignment() Assignment {
	return Assignment{
		Version: f.Version, Error: AssignmentError(f.Error), Leader: f.Leader, LeaderURL: f.LeaderURL,
		ConfigOffset: f.ConfigOffset, Connectors: f.Connectors, Tasks: f.Tasks,
		RevokedConnectors: f.RevokedConnectors, RevokedTasks: f.RevokedTasks,
		Delay: time.Duration(f.DelayMs) * time.Millisecond,
	}
}

// readJSON parses a fixture file into v.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

func loadProtocolFixtures(t *testing.T) protocolFixtures {
	t.Helper()
	var f protocolFixtures
	readJSON(t, "testdata/protocol.json", &f)
	if len(f.Metadata) == 0 || len(f.Assignments) == 0 || len(f.JoinProtocols) == 0 {
		t.Fatal("testdata/protocol.json holds no fixtures")
	}
	return f
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameAssignment compares assignments treating nil and empty lists alike.
func sameAssignment(a, b Assignment) bool {
	norm := func(x Assignment) Assignment {
		if len(x.Connectors) == 0 {
			x.Connectors = nil
		}
		if len(x.Tasks) == 0 {
			x.Tasks = nil
		}
		if len(x.RevokedConnectors) == 0 {
			x.RevokedConnectors = nil
		}
		if len(x.RevokedTasks) == 0 {
			x.RevokedTasks = nil
		}
		return x
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestAssignmentMatchesUpstreamBytes(t *testing.T) {
	for _, fx := range loadProtocolFixtures(t).Assignments {
		t.Run(fx.Name, func(t *testing.T) {
			want := unhex(t, fx.Hex)
			a := fx.Decoded.assignment()
			if got := a.Encode(); !bytes.Equal(got, want) {
				t.Errorf("Encode(%+v)\n got %x\nwant %x", a, got, want)
			}
			got, err := DecodeAssignment(want)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAssignment(got, a) {
				t.Errorf("DecodeAssignment = %+v, upstream decodes %+v", got, a)
			}
		})
	}
}

func TestWorkerStateMatchesUpstreamBytes(t *testing.T) {
	for _, fx := range loadProtocolFixtures(t).Metadata {
		t.Run(fx.Name, func(t *testing.T) {
			p, err := ParseProtocol(fx.Protocol)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, fx.Hex)
			w := WorkerState{URL: fx.Decoded.URL, ConfigOffset: fx.Decoded.ConfigOffset}
			if fx.Decoded.Allocation != nil {
				a := fx.Decoded.Allocation.assignment()
				w.Allocation = &a
			}
			if got := w.Encode(p); !bytes.Equal(got, want) {
				t.Errorf("Encode(%s)\n got %x\nwant %x", p, got, want)
			}
			got, err := DecodeWorkerState(want)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != w.URL || got.ConfigOffset != w.ConfigOffset || (got.Allocation == nil) != (w.Allocation == nil) {
				t.Fatalf("DecodeWorkerState = %+v, upstream decodes %+v", got, w)
			}
			if got.Allocation != nil && !sameAssignment(*got.Allocation, *w.Allocation) {
				t.Errorf("decoded allocation %+v, upstream decodes %+v", *got.Allocation, *w.Allocation)
			}
		})
	}
}

func TestJoinProtocolsMatchUpstream(t *testing.T) {
	f := loadProtocolFixtures(t)
	// The fixtures' worker state is the allocation of the sessioned_allocation metadata with the
	// URL and offset of compatible_allocation.
	var state WorkerState
	for _, m := range f.Metadata {
		if m.Name == "compatible_allocation" {
			a := m.Decoded.Allocation.assignment()
			state = WorkerState{URL: m.Decoded.URL, ConfigOffset: m.Decoded.ConfigOffset, Allocation: &a}
		}
	}
	if state.Allocation == nil {
		t.Fatal("fixture compatible_allocation missing")
	}
	for _, fx := range f.JoinProtocols {
		t.Run(fx.Setting, func(t *testing.T) {
			p, err := ParseProtocol(fx.Setting)
			if err != nil {
				t.Fatal(err)
			}
			got := JoinProtocols(p, state)
			if len(got) != len(fx.Offered) {
				t.Fatalf("offered %d protocols, upstream %d", len(got), len(fx.Offered))
			}
			for i, o := range fx.Offered {
				if got[i].Name != o.Name || !bytes.Equal(got[i].Metadata, unhex(t, o.Hex)) {
					t.Errorf("protocol %d: got %s %x, upstream %s %s", i, got[i].Name, got[i].Metadata, o.Name, o.Hex)
				}
			}
		})
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	f := loadProtocolFixtures(t)
	full := unhex(t, f.Assignments[0].Hex)
	d := f.Assignments[0].Decoded
	offsetAt := 2 + 2 + 2 + len(d.Leader) + 2 + len(d.LeaderURL) // version, error, leader, leader URL
	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "field version: not enough data"},
		{"negative version", []byte{0xff, 0xfe}, "unsupported version -2"},
		{"cut in leader", full[:6], "field leader: not enough data"},
		{"cut in config offset", full[:offsetAt+3], "field config-offset"},
		{"cut in tasks", full[:len(full)-2], "field assignment.tasks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeAssignment(c.input)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("DecodeAssignment error = %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := DecodeWorkerState([]byte{0, 1, 0, 3, 'a'}); err == nil || !strings.Contains(err.Error(), "field url") {
		t.Errorf("DecodeWorkerState of a cut URL: error %v, want one naming field url", err)
	}
	if _, err := DecodeWorkerState(append([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 0, 0, 2, 0, 1)); err == nil ||
		!strings.Contains(err.Error(), "allocation") {
		t.Errorf("DecodeWorkerState of a cut allocation: error %v, want one naming the allocation", err)
	}
}

func TestDecodeToleratesOlderAndNewerLayouts(t *testing.T) {
	a := Assignment{Version: 1, Leader: "l", LeaderURL: "u", ConfigOffset: 3, Connectors: []string{"c"},
		RevokedTasks: []herder.TaskID{{Connector: "d", Task: 1}}, Delay: 2 * time.Second}
	b := a.Encode()
	// Without the delay (an older layout): the delay defaults to 0.
	got, err := DecodeAssignment(b[:len(b)-4])
	if err != nil || got.Delay != 0 || len(got.RevokedTasks) != 1 {
		t.Fatalf("decode without delay = %+v, %v", got, err)
	}
	// With a field a future version might add: ignored.
	got, err = DecodeAssignment(append(b, 0, 0, 0, 9))
	if err != nil || !sameAssignment(got, a) {
		t.Fatalf("decode with trailing field = %+v, %v; want %+v", got, err, a)
	}
}

func TestApplyKeepsHeldWorkMinusRevoked(t *testing.T) {
	t0, t1, t2 := herder.TaskID{Connector: "a", Task: 0}, herder.TaskID{Connector: "a", Task: 1}, herder.TaskID{Connector: "b", Task: 0}
	held := &Assignment{Version: 2, Connectors: []string{"a", "b"}, Tasks: []herder.TaskID{t0, t1}}
	next := Assignment{Version: 2, Leader: "l2", Tasks: []herder.TaskID{t2}, RevokedConnectors: []string{"b"}, RevokedTasks: []herder.TaskID{t0}}
	got := next.Apply(held, Sessioned)
	want := Assignment{Version: 2, Leader: "l2", Connectors: []string{"a"}, Tasks: []herder.TaskID{t2, t1}}
	if !sameAssignment(got, want) {
		t.Errorf("cooperative Apply = %+v, want %+v", got, want)
	}
	if got, want := next.Apply(held, Eager), (Assignment{Version: 2, Leader: "l2", Tasks: []herder.TaskID{t2}}); !sameAssignment(got, want) {
		t.Errorf("eager Apply = %+v, want the new assignment alone %+v", got, want)
	}
	if held.Tasks[0] != t0 || len(held.Connectors) != 2 {
		t.Errorf("Apply changed the held assignment: %+v", held)
	}
}

func TestParseProtocol(t *testing.T) {
	for setting, want := range map[string]Protocol{"eager": Eager, "COMPATIBLE": Compatible, "Sessioned": Sessioned} {
		if got, err := ParseProtocol(setting); err != nil || got != want {
			t.Errorf("ParseProtocol(%q) = %v, %v; want %v", setting, got, err, want)
		}
	}
	if _, err := ParseProtocol("default"); err == nil || !strings.Contains(err.Error(), "connect.protocol") {
		t.Errorf("ParseProtocol(default) error = %v, want one naming connect.protocol", err)
	}
	for name, want := range map[string]Protocol{"default": Eager, "compatible": Compatible, "sessioned": Sessioned} {
		if got, err := ProtocolByName(name); err != nil || got != want {
			t.Errorf("ProtocolByName(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ProtocolByName("range"); err == nil {
		t.Error("ProtocolByName(range) succeeded")
	}
}
