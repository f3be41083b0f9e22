package main

import (
	"cmp"
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	listen := cmp.Or(os.Getenv("APP_LISTEN"), "127.0.0.1:8090")
	a, err := New(ctx, Config{
		GrantdURL: os.Getenv("GRANTD_URL"),
		APIKey:    os.Getenv("GRANTD_API_KEY"),
		PublicURL: cmp.Or(os.Getenv("APP_URL"), "http://"+listen),
		Tag:       cmp.Or(os.Getenv("APP_TAG"), "example-app"),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: listen, Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("app listening on %s; open %s/connect?user=u-1", listen, a.publicURL)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
