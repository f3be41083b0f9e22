package testenv

import (
	"time"

	"github.com/grantd/grantd/internal/clock"
)

// Clock is a settable time source, shared by a broker, its scheduler and a
// sandbox so tests cross lifetimes without waiting; its timers fire when
// it is advanced (see [clock.Fake]).
type Clock = clock.Fake

// NewClock returns a clock set to now, truncated to the second.
func NewClock() *Clock { return clock.NewFake(time.Now().UTC().Truncate(time.Second)) }
