package failpoint

import (
	"context"
	"net"
	"sync/atomic"
)

// Conn is a connection that can hit a failpoint right after its next
// successful Write, that is once bytes have reached the socket: the point
// where a request has surely left the process. net/http's WroteRequest
// trace hook fires before the transport flushes its buffer, too early for
// "after send".
type Conn struct {
	net.Conn
	next atomic.Pointer[string]
}

// HitAfterWrite makes the next successful Write hit name.
func (c *Conn) HitAfterWrite(name string) { c.next.Store(&name) }

// Write writes p, then hits the failpoint armed by HitAfterWrite, if any.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil && n > 0 {
		if name := c.next.Swap(nil); name != nil {
			Hit(*name)
		}
	}
	return n, err
}

// WrapDial returns dial with each connection it makes wrapped in a *Conn.
func WrapDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &Conn{Conn: c}, nil
	}
}

// ArmAfterWrite arms name on c, or on the connection under it when c is a
// TLS connection, if it is a *Conn; it reports whether it was.
func ArmAfterWrite(c net.Conn, name string) bool {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	fc, ok := c.(*Conn)
	if ok {
		fc.HitAfterWrite(name)
	}
	return ok
}
