package cluster

import (
	"testing"
	"time"
)

func TestLeaseCountsFromSendTime(t *testing.T) {
	l := NewLease()
	l.setDuration(5 * time.Second)
	if l.Valid() {
		t.Fatal("a new lease is valid")
	}
	// An answer to a request sent 6 s ago (a process stopped meanwhile) proves nothing now.
	l.renew(time.Now().Add(-6 * time.Second))
	if l.Valid() {
		t.Fatalf("lease valid until %s from now after a renewal sent 6s ago", time.Until(l.Until()))
	}
	sent := time.Now().Add(-2 * time.Second)
	l.renew(sent)
	if got, want := l.Until(), sent.Add(5*time.Second); !got.Equal(want) || !l.Valid() {
		t.Fatalf("renewed lease ends at %s (valid %v), want %s", got, l.Valid(), want)
	}
	// An older answer does not shorten it.
	l.renew(sent.Add(-time.Second))
	if got := l.Until(); !got.Equal(sent.Add(5 * time.Second)) {
		t.Fatalf("an older renewal moved the end to %s", got)
	}
	l.expire()
	if l.Valid() {
		t.Fatal("lease valid after expire")
	}
	// A request sent before the membership was found lost cannot revive it.
	l.renew(sent)
	if l.Valid() {
		t.Fatal("a request sent before expire renewed the lease")
	}
	l.renew(time.Now())
	if !l.Valid() {
		t.Fatal("a request sent after expire did not renew the lease")
	}
}
