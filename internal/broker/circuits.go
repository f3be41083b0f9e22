package broker

import "time"

// CircuitState is what a provider's circuit breaker looks like from
// outside, for the console and diagnostics.
type CircuitState struct {
	// Open is set while requests to the provider's token endpoint are
	// held back after repeated transient failures.
	Open bool
	// Failures counts the transient failures in a row.
	Failures int
	// Until is when the next probe may go; zero when the circuit is
	// closed.
	Until time.Time
}

// Circuits returns the state of every provider circuit this process has
// used, by provider name. It is read-only and safe for concurrent use;
// each replica has its own circuits.
func (b *Broker) Circuits() map[string]CircuitState {
	b.gatesMu.Lock()
	defer b.gatesMu.Unlock()
	out := make(map[string]CircuitState, len(b.gates))
	for name, g := range b.gates {
		g.mu.Lock()
		out[name] = CircuitState{Open: !g.openUntil.IsZero(), Failures: g.count, Until: g.openUntil}
		g.mu.Unlock()
	}
	return out
}
