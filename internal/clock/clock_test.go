package clock

import (
	"testing"
	"time"
)

func TestFakeFiresTimersWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	a, b := f.After(time.Minute), f.After(time.Hour)
	if got := f.Waiters(); got != 2 {
		t.Fatalf("Waiters() = %d, want 2", got)
	}
	f.Advance(59 * time.Second)
	select {
	case <-a:
		t.Fatal("a fired before its deadline")
	default:
	}
	f.Advance(time.Second)
	if got := <-a; !got.Equal(start.Add(time.Minute)) {
		t.Errorf("a fired with %v, want %v", got, start.Add(time.Minute))
	}
	select {
	case <-b:
		t.Fatal("b fired before its deadline")
	default:
	}
	f.Set(start) // never backwards
	if got := f.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now() after Set(past) = %v, want %v", got, start.Add(time.Minute))
	}
	f.Advance(time.Hour)
	<-b
	if got := f.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d, want 0", got)
	}
	select {
	case <-f.After(0):
	default:
		t.Error("After(0) did not fire at once")
	}
}

func TestFakeWaitForWaiters(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	go func() { f.After(time.Second) }()
	if !f.WaitForWaiters(1, nil) {
		t.Fatal("WaitForWaiters returned false")
	}
	done := make(chan struct{})
	close(done)
	if f.WaitForWaiters(5, done) {
		t.Error("WaitForWaiters(5) = true with one waiter")
	}
}
