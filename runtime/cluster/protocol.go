package cluster

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ProtocolType is the JoinGroup protocol type of Kafka Connect worker groups.
const ProtocolType = "connect"

// Protocol is a Connect group sub-protocol: what the worker's connect.protocol setting selects,
// and what the group coordinator picks among the protocols every member offers.
type Protocol int8

// The sub-protocols, oldest first. Their numeric values are the protocol versions written in the
// metadata and assignment headers.
const (
	// Eager revokes everything at every rebalance ("default" on the wire, version 0).
	Eager Protocol = 0
	// Compatible is incremental cooperative rebalancing (KIP-415, version 1).
	Compatible Protocol = 1
	// Sessioned is Compatible plus session keys for internal REST requests (KIP-507, version 2).
	Sessioned Protocol = 2
)

// Version is the protocol version written in the metadata and assignment headers.
func (p Protocol) Version() int16 { return int16(p) }

// Name is the protocol name offered in JoinGroup requests.
func (p Protocol) Name() string {
	switch p {
	case Eager:
		return "default"
	case Compatible:
		return "compatible"
	case Sessioned:
		return "sessioned"
	}
	return fmt.Sprintf("unknown(%d)", int8(p))
}

// String is the connect.protocol value selecting p.
func (p Protocol) String() string {
	if p == Eager {
		return "eager"
	}
	return p.Name()
}

// ParseProtocol reads a connect.protocol setting ("eager", "compatible" or "sessioned", any case).
func ParseProtocol(setting string) (Protocol, error) {
	for _, p := range []Protocol{Eager, Compatible, Sessioned} {
		if strings.EqualFold(setting, p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("connect.protocol: unknown Connect protocol compatibility mode %q (want eager, compatible or sessioned)", setting)
}

// ProtocolByName maps the protocol name the coordinator chose (JoinGroup response) to a Protocol.
func ProtocolByName(name string) (Protocol, error) {
	for _, p := range []Protocol{Eager, Compatible, Sessioned} {
		if strings.EqualFold(name, p.Name()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("group protocol %q is not a Connect protocol", name)
}

// JoinProtocols returns the protocols a worker configured with p offers when joining, most
// preferred first as upstream orders them (sessioned, compatible, default), each with the
// worker's metadata encoded for that protocol. The coordinator picks the first one all members
// support, which is how a group of mixed settings falls back to the oldest protocol.
func JoinProtocols(p Protocol, state WorkerState) []kmsg.JoinGroupRequestProtocol {
	var out []kmsg.JoinGroupRequestProtocol
	for v := p; v >= Eager; v-- {
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name = v.Name()
		jp.Metadata = state.Encode(v)
		out = append(out, jp)
	}
	return out
}
