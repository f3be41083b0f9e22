package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for one test binary.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA creates a CA valid for a day.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// RunTrusting runs the test binary's tests with ca as the only system root
// (SSL_CERT_FILE), so the default clients trust it and nothing else. Call it
// from TestMain before any TLS verification has loaded the roots.
func RunTrusting(m *testing.M, ca *CA) (int, error) {
	dir, err := os.MkdirTemp("", "grantd-tls-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		return 0, err
	}
	os.Setenv("SSL_CERT_FILE", file)
	os.Setenv("SSL_CERT_DIR", dir)
	return m.Run(), nil
}

// Leaf issues a server certificate for ips and dns, valid from notBefore
// to notAfter. A nil ca makes it self-signed.
func Leaf(t testing.TB, ca *CA, ips []net.IP, dns []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "grantd test server"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  ips,
		DNSNames:     dns,
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TLSServer starts an HTTPS server on loopback with cfg that answers every
// request with the JSON body, counting the requests that get through the
// handshake.
func TLSServer(t testing.TB, cfg *tls.Config, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	n := new(atomic.Int32)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	srv.TLS = cfg
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, n
}

// IsUnknownAuthority reports a certificate signed by an untrusted CA.
func IsUnknownAuthority(err error) bool {
	_, ok := errors.AsType[x509.UnknownAuthorityError](err)
	return ok
}

// IsHostnameError reports a certificate for another name.
func IsHostnameError(err error) bool {
	_, ok := errors.AsType[x509.HostnameError](err)
	return ok
}

// IsExpired reports an expired certificate.
func IsExpired(err error) bool {
	e, ok := errors.AsType[x509.CertificateInvalidError](err)
	return ok && e.Reason == x509.Expired
}

// CertCase is one server certificate for a TLS validation test (SEC-50).
type CertCase struct {
	Name string
	Cert tls.Certificate
	// Check tells a certificate error of the expected kind; nil means the
	// connection must succeed (the control case).
	Check func(error) bool
}

// CertCases returns a valid loopback certificate from trusted (the
// control), then a self-signed one, one for the wrong names, an expired
// one, and one from an untrusted CA.
func CertCases(t testing.TB, trusted *CA) []CertCase {
	t.Helper()
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	now := time.Now()
	untrusted, err := NewCA("grantd test untrusted CA")
	if err != nil {
		t.Fatal(err)
	}
	return []CertCase{
		{"valid (control)", Leaf(t, trusted, loopback, nil, now.Add(-time.Hour), now.Add(time.Hour)), nil},
		{"self-signed", Leaf(t, nil, loopback, nil, now.Add(-time.Hour), now.Add(time.Hour)), IsUnknownAuthority},
		{"wrong SAN", Leaf(t, trusted, []net.IP{net.IPv4(192, 0, 2, 1)}, []string{"api.example.com"}, now.Add(-time.Hour), now.Add(time.Hour)), IsHostnameError},
		{"expired", Leaf(t, trusted, loopback, nil, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), IsExpired},
		{"untrusted CA", Leaf(t, untrusted, loopback, nil, now.Add(-time.Hour), now.Add(time.Hour)), IsUnknownAuthority},
	}
}
