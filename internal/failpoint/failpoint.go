package failpoint

import (
	"maps"
	"sync"
	"sync/atomic"
)

// The points grantd marks, in the order a refresh reaches them.
const (
	// RefreshBeforeJournal: the lease is held, nothing is written yet.
	RefreshBeforeJournal = "refresh.before_journal"
	// RefreshBeforeSend: the journal entry is committed, the request has
	// not left.
	RefreshBeforeSend = "refresh.before_send"
	// RefreshAfterSend: the request was written to the provider, no answer
	// has been read.
	RefreshAfterSend = "refresh.after_send"
	// RefreshAfterReceive: the provider's answer was read, nothing of it
	// is stored.
	RefreshAfterReceive = "refresh.after_receive"
)

// Names lists every failpoint.
var Names = []string{RefreshBeforeJournal, RefreshBeforeSend, RefreshAfterSend, RefreshAfterReceive}

var (
	mu      sync.Mutex
	actions atomic.Pointer[map[string]func()]
)

// Hit runs the action set for name, if any.
func Hit(name string) {
	if m := actions.Load(); m != nil {
		if f := (*m)[name]; f != nil {
			f()
		}
	}
}

// Armed reports whether any action is set, so a caller can skip building
// what only a failpoint needs.
func Armed() bool { return actions.Load() != nil }

// Set makes Hit(name) run f, and returns a function that removes it. f runs
// on the goroutine that reaches the point and may block or call
// runtime.Goexit to stand for a stalled or dead process.
func Set(name string, f func()) (unset func()) {
	update(func(m map[string]func()) { m[name] = f })
	return func() { update(func(m map[string]func()) { delete(m, name) }) }
}

func update(change func(map[string]func())) {
	mu.Lock()
	defer mu.Unlock()
	m := map[string]func(){}
	if cur := actions.Load(); cur != nil {
		maps.Copy(m, *cur)
	}
	change(m)
	if len(m) == 0 {
		actions.Store(nil)
		return
	}
	actions.Store(&m)
}
