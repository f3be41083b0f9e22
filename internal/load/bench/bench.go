package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/demo"
)

// connected starts the demo on loopback ports and connects its partner,
// the starting point of the load scenarios. The caller closes the demo.
func connected(ctx context.Context, name string, accessLog bool, logs io.Writer) (*demo.Demo, *demo.Report, error) {
	d, err := demo.Start(ctx, demo.Options{Listen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", AccessLog: accessLog, Logs: logs})
	if err != nil {
		return nil, nil, err
	}
	if logs != nil {
		fmt.Fprintf(logs, "%s: connecting the demo partner…\n", name)
	}
	r, err := d.RunHeadless(ctx)
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("demo flow: %w", err)
	}
	return d, r, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// serveConstant serves body as JSON from a bare net/http server on
// loopback until ctx is done, and returns its URL. It is the baseline.
func serveConstant(ctx context.Context, body []byte) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(body)
		}),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/token", nil
}
