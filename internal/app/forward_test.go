package app

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// forwarder is a loopback TCP forwarder in front of a server (PostgreSQL),
// which a test takes down and brings back up to stage the server's restart
// without touching the server itself, which other tests share. Down closes
// every forwarded connection and the listener, so new connections are
// refused as by a stopped server; Up listens on the same address again.
type forwarder struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newForwarder starts forwarding from a new loopback port to target
// (host:port); it is closed when the test ends.
func newForwarder(t testing.TB, target string) *forwarder {
	t.Helper()
	f := &forwarder{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(func() {
		f.Down()
		f.wg.Wait()
	})
	return f
}

// Addr is the forwarder's host:port.
func (f *forwarder) Addr() string { return f.addr }

func (f *forwarder) serve(ln net.Listener) {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() { f.forward(c) })
		}
	})
}

// forward copies bytes both ways between c and a new connection to the
// target until either side closes or Down cuts them.
func (f *forwarder) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", f.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !f.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	defer f.untrack(c, up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// track records a pair of connections, unless the forwarder went down
// meanwhile.
func (f *forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln == nil {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

// Down closes the listener and every forwarded connection.
func (f *forwarder) Down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

// Up listens on the forwarder's address again.
func (f *forwarder) Up() {
	f.t.Helper()
	var ln net.Listener
	var err error
	// The port was ours a moment ago; retry briefly in case the kernel
	// has not released it yet.
	for range 50 {
		if ln, err = net.Listen("tcp", f.addr); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("forwarder up on %s: %v", f.addr, err)
	}
	f.serve(ln)
}
