package kafkawire

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// frame encodes resp as a broker sends it: size, correlation ID, the header's tagged fields when
// flexible (here one unknown tag, which must be kept), then the body.
func frame(resp kmsg.Response, corr int32) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 4), uint32(corr))
	if resp.IsFlexible() {
		b = append(b, 1, 7, 2, 0xAB, 0xCD) // one tag: number 7, two bytes
	}
	b = resp.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func TestAmendResponseKeepsTheHeaderAndChangesTheBody(t *testing.T) {
	for _, version := range []int16{1, 12} { // before and after flexible versions
		resp := kmsg.NewPtrMetadataResponse()
		resp.SetVersion(version)
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = 1, "10.0.0.1", 9092
		resp.Brokers = append(resp.Brokers, b)
		in := frame(resp, 42)
		out, err := AmendResponse(in, int16(kmsg.Metadata), version, func(r kmsg.Response) error {
			r.(*kmsg.MetadataResponse).Brokers[0].Host = "proxy.example"
			return nil
		})
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		header := 8
		if resp.IsFlexible() {
			header += 5
		}
		if string(out[4:header]) != string(in[4:header]) {
			t.Errorf("v%d: header % x, want % x", version, out[4:header], in[4:header])
		}
		if got := int(binary.BigEndian.Uint32(out)); got != len(out)-4 {
			t.Errorf("v%d: size %d, want %d", version, got, len(out)-4)
		}
		back := kmsg.NewPtrMetadataResponse()
		back.SetVersion(version)
		if err := back.ReadFrom(out[header:]); err != nil {
			t.Fatalf("v%d: decode amended: %v", version, err)
		}
		if got := back.Brokers[0]; got.Host != "proxy.example" || got.Port != 9092 || got.NodeID != 1 {
			t.Errorf("v%d: amended broker %+v", version, got)
		}
	}
}

func TestAmendResponseRejectsBadFrames(t *testing.T) {
	keep := func(kmsg.Response) error { return nil }
	for name, tc := range map[string]struct {
		frame []byte
		key   int16
	}{
		"short":          {[]byte{0, 0, 0, 1}, int16(kmsg.Metadata)},
		"unknown key":    {make([]byte, 12), -5},
		"bad tag size":   {[]byte{0, 0, 0, 7, 0, 0, 0, 1, 1, 7, 9}, int16(kmsg.Metadata)},
		"truncated body": {[]byte{0, 0, 0, 5, 0, 0, 0, 1, 0}, int16(kmsg.Metadata)},
	} {
		version := int16(12)
		if _, err := AmendResponse(tc.frame, tc.key, version, keep); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReadRequestDecodesWhatFranzGoWrites decodes requests as franz-go frames them, with and
// without a client ID and before and after flexible versions.
func TestReadRequestDecodesWhatFranzGoWrites(t *testing.T) {
	for _, version := range []int16{2, 4, 5} {
		for _, f := range []*kmsg.RequestFormatter{kmsg.NewRequestFormatter(), kmsg.NewRequestFormatter(kmsg.FormatterClientID("worker-1"))} {
			req := kmsg.NewPtrEndTxnRequest()
			req.SetVersion(version)
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = "tx", 7, 3, true
			frame := f.AppendRequest(nil, req, 99)
			got, corr, err := ReadRequest(frame)
			if err != nil {
				t.Fatalf("v%d %+v: %v", version, f, err)
			}
			end, ok := got.(*kmsg.EndTxnRequest)
			if !ok || corr != 99 || end.TransactionalID != "tx" || end.ProducerID != 7 || end.ProducerEpoch != 3 || !end.Commit {
				t.Errorf("v%d %+v: decoded %+v, correlation %d", version, f, got, corr)
			}
		}
	}
	if _, _, err := ReadRequest([]byte{0, 0, 0, 10, 0, 26, 0, 5, 0, 0, 0, 1, 0, 9}); err == nil {
		t.Error("a client ID past the frame decoded")
	}
}
