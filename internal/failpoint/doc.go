// Package failpoint marks the points inside grantd where a crash or a
// stall would be most harmful, so tests can stop there.
//
// A failpoint is a call to [Hit] with a name such as
// "refresh.after_receive". In a normal build it costs one atomic load and
// does nothing. Tests in the same process install actions with [Set]. A
// binary built with the failpoint build tag also reads GRANTD_FAILPOINT at
// start-up, a name or a comma-separated list, and kills its own process
// with SIGKILL when it reaches one of them; that is how the crash tests
// of the security checklist (RT-04) stop a real replica at an exact point:
//
//	go build -tags failpoint -o grantd-failpoint ./cmd/grantd
//	GRANTD_FAILPOINT=refresh.after_receive ./grantd-failpoint serve
//
// The names are listed in [Names].
package failpoint
