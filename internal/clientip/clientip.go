package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Header is the header a trusted proxy appends the address of its own
// client to (the de facto standard; the Forwarded header of RFC 7239 is
// not read).
const Header = "X-Forwarded-For"

// Resolver finds a request's client address, trusting X-Forwarded-For only
// from the proxies it was built with. The zero value and a nil *Resolver
// trust no proxy. A Resolver is immutable and safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that trusts the proxies whose addresses are in
// trusted, as returned by [ParsePrefix].
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		if p.IsValid() {
			r.trusted = append(r.trusted, canonical(p))
		}
	}
	return r
}

// ParsePrefix reads one trusted proxy entry: an IP address, which stands
// for itself, or a CIDR prefix such as 10.0.0.0/8 or fd00::/8. A prefix
// with bits set beyond its length (10.0.0.1/8) is refused as ambiguous,
// as is an address with a zone. IPv4-mapped IPv6 entries are read as IPv4.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%q has bits set beyond the prefix length (did you mean %s?)", s, m)
		}
		return canonical(p), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q has a zone, which a proxy entry must not have", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// canonical turns an IPv4-mapped IPv6 prefix into the IPv4 prefix it
// covers, since [Resolver] compares unmapped addresses.
func canonical(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Trusts reports whether a is the address of a trusted proxy. An
// IPv4-mapped IPv6 address is compared as the IPv4 address it maps.
func (r *Resolver) Trusts(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the address of req's client: the TCP peer
// ([Peer]) when it is not a trusted proxy; otherwise the rightmost
// X-Forwarded-For entry that is not a trusted proxy, several
// X-Forwarded-For lines being read as one list in order. When every entry
// is a trusted proxy, the leftmost one is the client. A malformed or empty
// entry ends the walk: the client is then the last trusted hop, the one
// that passed the malformed entry on, since what lies beyond it cannot be
// read. Entries are IP addresses, optionally with a port (203.0.113.7:4711,
// [2001:db8::1]:4711). The result is invalid only when req.RemoteAddr is
// not an address, as with a Unix socket.
func (r *Resolver) Resolve(req *http.Request) netip.Addr {
	client := Peer(req)
	if !r.Trusts(client) {
		return client
	}
	lines := req.Header[Header]
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			elem := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				elem, rest = rest[cut+1:], rest[:cut]
			}
			a, ok := parseEntry(elem)
			if !ok {
				return client
			}
			if !r.Trusts(a) {
				return a
			}
			client = a
			if cut < 0 {
				break
			}
		}
	}
	return client
}

// parseEntry reads one X-Forwarded-For entry.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}

// Peer returns the address of req's TCP peer, from req.RemoteAddr, as
// [http.Server] sets it: unmapped, without zone, and invalid when
// RemoteAddr holds no IP address.
func Peer(req *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err == nil {
		return ap.Addr().WithZone("").Unmap()
	}
	a, err := netip.ParseAddr(req.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}
