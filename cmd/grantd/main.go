package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// env is what a subcommand may touch of the outside world, so that tests
// can run commands in-process with their own output and environment.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}
