package runtime

import "testing"

func TestBufferPoolReusesAndSizes(t *testing.T) {
	var p bufferPool
	fresh := p.get(1000)
	if len(fresh) != 0 || cap(fresh) < 1000 || cap(fresh) > 2048 {
		t.Fatalf("new buffer for a 1000-byte hint: len %d cap %d", len(fresh), cap(fresh))
	}
	fresh = append(fresh, "value"...)
	p.put(fresh)
	again := p.get(10)
	if len(again) != 0 || cap(again) != cap(fresh) || &again[:1][0] != &fresh[0] {
		t.Fatalf("get after put returned a different buffer (len %d cap %d)", len(again), cap(again))
	}
	if small := p.get(0); cap(small) < 64 {
		t.Errorf("new buffer without a hint has cap %d, want at least 64", cap(small))
	}
}

func TestBufferPoolIsBounded(t *testing.T) {
	var p bufferPool
	p.put(make([]byte, 0, maxPooledBuffer+1))
	if len(p.free) != 0 {
		t.Fatal("kept a buffer above maxPooledBuffer")
	}
	for range 2 * maxPoolBytes / maxPooledBuffer {
		p.put(make([]byte, 0, maxPooledBuffer))
	}
	if p.bytes > maxPoolBytes || len(p.free) != maxPoolBytes/maxPooledBuffer {
		t.Fatalf("pool holds %d buffers, %d bytes; want %d bytes at most", len(p.free), p.bytes, maxPoolBytes)
	}
	for range len(p.free) {
		p.get(0)
	}
	if p.bytes != 0 {
		t.Fatalf("empty pool accounts %d bytes", p.bytes)
	}
}
