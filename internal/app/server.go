package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/grantd/grantd/internal/console"
	"github.com/grantd/grantd/internal/orgmap"
)

// ShutdownTimeout bounds how long Serve waits for requests in flight after
// its context is cancelled.
const ShutdownTimeout = 10 * time.Second

// RefreshDrainTimeout bounds how long Serve then waits for refreshes still
// in flight to store their tokens; it exceeds the broker's default token
// request timeout (20 s).
const RefreshDrainTimeout = 30 * time.Second

// routes is the top-level mux: the JSON API under /v1/, the browser pages
// (connect, callbacks, static files, index, organisation mapping), the
// console under /console/, metrics
// and health.
func (a *App) routes(apiH, webH, mappingH, consoleH http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiH)
	mux.Handle(console.Path, consoleH)
	mux.Handle("/console", http.RedirectHandler(console.Path, http.StatusMovedPermanently))
	mux.Handle(orgmap.PagePath, mappingH)
	mux.Handle("/connect/", webH)
	mux.Handle("/oauth/", webH)
	mux.Handle("/static/", webH)
	mux.Handle("/", webH)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /healthz", a.handleLive)
	mux.HandleFunc("GET /readyz", a.handleReady)
	return mux
}

// Run listens on the configured address and calls [App.Serve].
func (a *App) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves HTTP on ln and runs the background refresher and the
// webhook sender until ctx is cancelled, then shuts the server down
// gracefully (waiting up to [ShutdownTimeout] for requests in flight),
// waits up to [RefreshDrainTimeout] for refreshes in flight to store their
// tokens, stops the sender (which makes a last round of attempts at the deliveries
// due, including those of events emitted during the shutdown, and leaves the rest in
// the durable outbox for the next start or another replica) and returns nil. It returns an
// error when the server fails. It closes ln but not the App.
//
// While it serves, the process records itself in the replica registry
// ([App.Owner], its vault key ids, host, pid, version) before taking
// requests and every [ReplicaHeartbeat], and marks itself stopped once the
// refreshes have drained, so that "grantd keys rewrap" can tell whether
// every running replica holds the new key (ENC-05). Registry writes that
// fail are logged, never fatal.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	started := a.now()
	a.recordReplica(ctx, started, false)
	// Recorded last, when nothing opens or seals values any more; also
	// when the server failed, since the process serves no longer.
	defer a.recordReplica(context.WithoutCancel(ctx), started, true)
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// The sender outlives the server, so that the events of the last
	// requests are still sent.
	nctx, stopNotify := context.WithCancel(context.WithoutCancel(ctx))
	notified := make(chan struct{})
	go func() {
		defer close(notified)
		a.notify.Run(nctx)
	}()
	defer func() {
		stopNotify()
		<-notified
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		a.log.InfoContext(ctx, "grantd listening", "addr", ln.Addr().String(), "public_url", a.cfg.PublicURL,
			"database", databaseKind(a.cfg.Database), "providers", len(a.providers.All()))
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := a.scheduler.Run(gctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("refresh scheduler: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		a.runHeartbeat(gctx, started)
		return nil
	})
	g.Go(func() error {
		a.countReplicas(gctx)
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		a.log.InfoContext(sctx, "grantd shutting down")
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	})
	err := g.Wait()
	// Nothing calls the broker any more, but refreshes whose callers gave
	// up (the refresher, above all) may still be storing tokens the
	// provider has issued; the caller closes the store next.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RefreshDrainTimeout)
	defer cancel()
	if werr := a.broker.Wait(wctx); werr != nil {
		a.log.ErrorContext(ctx, "refreshes still running at shutdown", "err", werr)
	}
	return err
}

// databaseKind names the database without its credentials, for logs.
func databaseKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "postgres"
	}
	return "sqlite:" + dsn
}

// isHTTPS reports whether the public URL is https, so cookies are Secure.
func isHTTPS(publicURL string) bool { return strings.HasPrefix(strings.ToLower(publicURL), "https://") }
