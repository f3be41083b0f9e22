package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and makes timers. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	// A d of zero or less fires at once.
	After(d time.Duration) <-chan time.Time
}

// Real is the system clock. Its zero value is ready to use.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Func is a clock that tells the time with now and waits in real time:
// for code given only a func() time.Time.
type Func func() time.Time

// Now returns f().
func (f Func) Now() time.Time { return f() }

// After is time.After.
func (Func) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fake is a settable clock. Its timers fire when Advance or Set moves the
// time to or past their deadline, never by themselves. The zero value
// starts at the zero time; use [NewFake]. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// After returns a channel that receives the clock's time once it has been
// advanced by d.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.t
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.t.Add(d), ch: ch})
	f.notifyLocked()
	return ch
}

// Advance moves the clock forward by d and fires the timers that fall due.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires the timers that
// fall due, earliest first.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.t) {
		f.t = t
	}
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- f.t
	}
	f.waiters = kept
	f.notifyLocked()
}

// Waiters returns how many timers are waiting to fire.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// WaitForWaiters blocks until at least n timers are waiting or done is
// closed, and reports whether n were reached: a test calls it to know that
// the code under test has gone to sleep before it advances the clock.
func (f *Fake) WaitForWaiters(n int, done <-chan struct{}) bool {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return true
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return false
		}
	}
}

func (f *Fake) notifyLocked() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}
