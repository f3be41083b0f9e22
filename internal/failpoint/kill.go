//go:build failpoint

package failpoint

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// init arms the failpoints named in GRANTD_FAILPOINT to kill the process,
// as kill -9 would: no deferred function, no flush, no lease release.
func init() {
	for name := range strings.SplitSeq(os.Getenv("GRANTD_FAILPOINT"), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(Names, name) {
			fmt.Fprintf(os.Stderr, "GRANTD_FAILPOINT: unknown failpoint %q (known: %s)\n", name, strings.Join(Names, ", "))
			os.Exit(2)
		}
		Set(name, func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) })
	}
}
