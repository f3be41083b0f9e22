// Package clock is grantd's one source of time for scheduling: a [Clock]
// tells the time and makes timers. [Real] is the system clock; [Fake] is a
// settable clock whose timers fire when a test advances it, shared by a
// broker, its scheduler and the sandbox so that tests cross token
// lifetimes, leases and backoffs without sleeping.
package clock
