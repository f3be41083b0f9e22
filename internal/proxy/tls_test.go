package proxy_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/upstream"
)

// trustedCA is the CA this test binary's system roots hold: TestMain writes
// it to SSL_CERT_FILE before any TLS verification, so the default clients
// (which use the system roots) trust it and nothing else.
var trustedCA *testenv.CA

func TestMain(m *testing.M) {
	ca, err := testenv.NewCA("grantd test trusted CA")
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy tests:", err)
		os.Exit(1)
	}
	trustedCA = ca
	code, err := testenv.RunTrusting(m, ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// getTLS sends GET /companies with a bearer token to base through a fresh
// upstream.NewBaseTransport, the transport grantd uses towards provider APIs.
func getTLS(t *testing.T, base string) error {
	t.Helper()
	tr := upstream.NewBaseTransport()
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/v1/companies", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer at-canary")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestBaseTransportTLSValidationSEC50 calls HTTPS provider APIs whose
// certificates are wrong in one way each through upstream.NewBaseTransport.
// Only the correct certificate from the trusted CA gets a request through;
// every other connection fails with a certificate error and the access
// token never reaches the server (SEC-50).
func TestBaseTransportTLSValidationSEC50(t *testing.T) {
	for _, tc := range testenv.CertCases(t, trustedCA) {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Check == nil && (runtime.GOOS == "darwin" || runtime.GOOS == "windows" || runtime.GOOS == "ios") {
				t.Skip("the platform verifier ignores SSL_CERT_FILE")
			}
			srv, reached := testenv.TLSServer(t, &tls.Config{Certificates: []tls.Certificate{tc.Cert}}, `{"content":[]}`)
			err := getTLS(t, srv.URL)
			if tc.Check == nil {
				if err != nil {
					t.Fatalf("GET with a valid certificate = %v; the setup is broken", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("SEC-50: the base transport accepted a %s certificate", tc.Name)
			}
			if !tc.Check(err) {
				t.Errorf("GET = %v, want a %s certificate error", err, tc.Name)
			}
			if reached.Load() != 0 {
				t.Errorf("SEC-50: %d requests reached a server with a %s certificate", reached.Load(), tc.Name)
			}
		})
	}
}

// TestBaseTransportTLSVersionSEC51 offers only TLS 1.0 and 1.1: the base
// transport, whose TLSClientConfig is nil, must fail the handshake (Go's
// crypto/tls client never offers less than TLS 1.2 when MinVersion is zero,
// whatever GODEBUG says) while a client that allows TLS 1.0 gets through,
// which shows the server really speaks TLS 1.1 (SEC-51).
func TestBaseTransportTLSVersionSEC51(t *testing.T) {
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	cert := testenv.Leaf(t, trustedCA, loopback, nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	srv, reached := testenv.TLSServer(t, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS11,
	}, `{"content":[]}`)

	roots := x509.NewCertPool()
	roots.AddCert(trustedCA.Cert)
	legacy := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10}}
	t.Cleanup(legacy.CloseIdleConnections)
	resp, err := (&http.Client{Transport: legacy}).Get(srv.URL + "/v1/companies")
	if err != nil {
		t.Fatalf("a TLS 1.0 client cannot reach the TLS 1.1 server (%v); the setup is broken", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS11 {
		t.Fatalf("control connection state %+v, want TLS 1.1", resp.TLS)
	}
	before := reached.Load()

	err = getTLS(t, srv.URL)
	if err == nil {
		t.Fatal("SEC-51: the base transport completed a TLS 1.1 handshake")
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("GET = %v, want a protocol version alert", err)
	}
	if reached.Load() != before {
		t.Error("SEC-51: the request reached the TLS 1.1 server")
	}
}
