package vault

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustKey(t testing.TB, id uint32) Key {
	t.Helper()
	k, err := GenerateKey(id)
	if err != nil {
		t.Fatalf("GenerateKey(%d): %v", id, err)
	}
	return k
}

func mustRing(t testing.TB, primary uint32, keys ...Key) *Keyring {
	t.Helper()
	r, err := New(keys, primary)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// TestRoundTripENC01 seals and opens every kind of secret the broker
// stores, under its own row binding (ENC-01).
func TestRoundTripENC01(t *testing.T) {
	r := mustRing(t, 0, mustKey(t, 1))
	cases := []struct {
		name, aad, value string
	}{
		{"access token", AAD("connection", "c1", "access_token"), "eyJhbGciOiJSUzI1NiJ9.access"},
		{"refresh token", AAD("connection", "c1", "refresh_token"), "v1.MjAyNi1yZWZyZXNo"},
		{"client secret", AAD("integration", "pax8", "client_secret"), "s3cr3t"},
		{"pkce verifier", AAD("connect_session", "s1", "pkce_verifier"), strings.Repeat("v", 64)},
		{"id token", AAD("connection", "c1", "id_token"), "eyJ.id.token"},
		{"empty", AAD("connection", "c1", "empty"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := r.Seal([]byte(tc.value), tc.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if tc.value != "" && bytes.Contains(sealed, []byte(tc.value)) {
				t.Errorf("sealed value contains the plaintext")
			}
			if got, want := len(sealed), len(tc.value)+Overhead; got != want {
				t.Errorf("len(Seal) = %d, want %d", got, want)
			}
			got, err := r.Open(sealed, tc.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if string(got) != tc.value {
				t.Errorf("Open = %q, want %q", got, tc.value)
			}
		})
	}
}

// TestNonceUniquenessENC02 seals 10^6 values under one key and checks that
// no nonce repeats (ENC-02).
func TestNonceUniquenessENC02(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	r := mustRing(t, 0, mustKey(t, 1))
	seen := make(map[[12]byte]struct{}, n)
	plaintext := []byte("x")
	for i := range n {
		sealed, err := r.Seal(plaintext, "t:r:f")
		if err != nil {
			t.Fatalf("Seal #%d: %v", i, err)
		}
		nonce := [12]byte(sealed[headerSize : headerSize+12])
		if _, dup := seen[nonce]; dup {
			t.Fatalf("nonce repeated after %d seals", i)
		}
		seen[nonce] = struct{}{}
	}
}

// TestTamperENC03 flips every bit position of every byte of a sealed value
// and checks that each change is an error and never plaintext (ENC-03).
func TestTamperENC03(t *testing.T) {
	r := mustRing(t, 0, mustKey(t, 1))
	aad := AAD("connection", "c1", "refresh_token")
	sealed, err := r.Seal([]byte("refresh-token-value"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(sealed)
			bad[i] ^= mask
			got, err := r.Open(bad, aad)
			if err == nil || got != nil {
				t.Fatalf("Open(byte %d ^ %#x) = %q, %v; want nil and an error", i, mask, got, err)
			}
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Open(byte %d ^ %#x) error = %v, want ErrTampered or ErrUnknownKey", i, mask, err)
			}
		}
	}
	for n := range sealed {
		if got, err := r.Open(sealed[:n], aad); err == nil || got != nil {
			t.Errorf("Open(truncated to %d) = %q, %v; want an error", n, got, err)
		}
	}
	if _, err := r.Open(append(bytes.Clone(sealed), 0), aad); !errors.Is(err, ErrTampered) {
		t.Errorf("Open(extended) error = %v, want ErrTampered", err)
	}
}

// TestSwapENC04SEC63 copies a ciphertext to another row and to another
// field: both must fail to open (ENC-04, SEC-63).
func TestSwapENC04SEC63(t *testing.T) {
	r := mustRing(t, 0, mustKey(t, 1))
	sealed, err := r.Seal([]byte("rt-of-A"), AAD("connection", "A", "refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range []string{
		AAD("connection", "B", "refresh_token"),
		AAD("connection", "A", "access_token"),
		AAD("integration", "A", "refresh_token"),
		AAD("connection", "A:refresh", "token"), // ambiguous joins differ too
		"",
	} {
		if got, err := r.Open(sealed, aad); !errors.Is(err, ErrTampered) || got != nil {
			t.Errorf("Open(sealed for A, %q) = %q, %v; want ErrTampered", aad, got, err)
		}
	}
}

// TestRotationENC05 adds a new primary key: old values still open, new
// seals carry the new id, rewrap moves values, and after rewrap the old key
// can be removed (ENC-05).
func TestRotationENC05(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	old := mustRing(t, 0, k1)
	aads := make([]string, 20)
	sealed := make([][]byte, len(aads))
	for i := range aads {
		aads[i] = AAD("connection", fmt.Sprint(i), "refresh_token")
		var err error
		if sealed[i], err = old.Seal(fmt.Append(nil, "token-", i), aads[i]); err != nil {
			t.Fatal(err)
		}
	}

	rotated := mustRing(t, 2, k1, k2)
	fresh, err := rotated.Seal([]byte("new"), "t:r:f")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := rotated.KeyID(fresh); err != nil || id != 2 {
		t.Errorf("KeyID(new seal) = %d, %v; want 2", id, err)
	}
	for i := range sealed {
		if id, _ := rotated.KeyID(sealed[i]); id != 1 {
			t.Fatalf("KeyID(old #%d) = %d, want 1", i, id)
		}
		got, err := rotated.Open(sealed[i], aads[i])
		if err != nil || string(got) != fmt.Sprint("token-", i) {
			t.Fatalf("Open(old #%d) = %q, %v", i, got, err)
		}
		// Rewrap half, as an interrupted rotation job would.
		if i%2 == 0 {
			if sealed[i], err = rotated.Rewrap(sealed[i], aads[i]); err != nil {
				t.Fatalf("Rewrap #%d: %v", i, err)
			}
		}
	}
	// Finish the job: values already under the primary come back unchanged.
	for i := range sealed {
		before := sealed[i]
		if sealed[i], err = rotated.Rewrap(sealed[i], aads[i]); err != nil {
			t.Fatalf("Rewrap #%d: %v", i, err)
		}
		if i%2 == 0 && !bytes.Equal(before, sealed[i]) {
			t.Errorf("Rewrap(#%d already under primary) changed the ciphertext", i)
		}
		if id, _ := rotated.KeyID(sealed[i]); id != 2 {
			t.Errorf("KeyID(rewrapped #%d) = %d, want 2", i, id)
		}
	}
	if _, err := rotated.Rewrap(sealed[0], aads[1]); !errors.Is(err, ErrTampered) {
		t.Errorf("Rewrap with the wrong row = %v, want ErrTampered", err)
	}

	retired := mustRing(t, 0, k2)
	for i := range sealed {
		got, err := retired.Open(sealed[i], aads[i])
		if err != nil || string(got) != fmt.Sprint("token-", i) {
			t.Errorf("Open(#%d) after retiring key 1 = %q, %v", i, got, err)
		}
	}
	if err := retired.Check(rotated.Fingerprint()); err != nil {
		t.Errorf("Check after retiring a non-primary key = %v, want nil", err)
	}
}

// TestWrongKeyENC06 covers a missing key and a wrong key under a known id:
// both are clear errors, at Open and at the start-up Check (ENC-06).
func TestWrongKeyENC06(t *testing.T) {
	k1 := mustKey(t, 1)
	good := mustRing(t, 0, k1)
	stored := good.Fingerprint()
	sealed, err := good.Seal([]byte("secret"), "t:r:f")
	if err != nil {
		t.Fatal(err)
	}

	if err := good.Check(stored); err != nil {
		t.Errorf("Check(own fingerprint) = %v, want nil", err)
	}
	if err := mustRing(t, 0, k1, mustKey(t, 2)).Check(stored); err != nil {
		t.Errorf("Check with an added key = %v, want nil", err)
	}

	wrong := mustRing(t, 0, mustKey(t, 1)) // same id, other secret
	if err := wrong.Check(stored); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "key 1 is not the key") {
		t.Errorf("Check(wrong key) = %v, want ErrWrongKey naming key 1", err)
	}
	if got, err := wrong.Open(sealed, "t:r:f"); !errors.Is(err, ErrTampered) || got != nil {
		t.Errorf("Open(wrong key) = %q, %v; want ErrTampered", got, err)
	}

	missing := mustRing(t, 0, mustKey(t, 7))
	if err := missing.Check(stored); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "key 1, the primary") {
		t.Errorf("Check(missing primary) = %v, want ErrWrongKey naming key 1", err)
	}
	if got, err := missing.Open(sealed, "t:r:f"); !errors.Is(err, ErrUnknownKey) || got != nil {
		t.Errorf("Open(missing key) = %q, %v; want ErrUnknownKey", got, err)
	}

	for _, bad := range []string{"garbage", "v1;primary=x;1=00", "v2;primary=1;1=00", "v1;primary=1", "v1;primary=2;1=00"} {
		if err := good.Check(bad); !errors.Is(err, ErrWrongKey) {
			t.Errorf("Check(%q) = %v, want ErrWrongKey", bad, err)
		}
	}
	if err := good.Check(""); err != nil {
		t.Errorf("Check(\"\") = %v, want nil (nothing stored yet)", err)
	}
}

func TestFingerprintRevealsNoKey(t *testing.T) {
	k := mustKey(t, 3)
	fp := mustRing(t, 0, k).Fingerprint()
	if !strings.HasPrefix(fp, "v1;primary=3;3=") {
		t.Errorf("Fingerprint = %q, want prefix v1;primary=3;3=", fp)
	}
	if enc := k.Encode(); strings.Contains(fp, enc[2:]) {
		t.Errorf("Fingerprint contains the encoded key")
	}
	if fp != mustRing(t, 0, k).Fingerprint() {
		t.Errorf("Fingerprint is not deterministic")
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := mustKey(t, 1), mustKey(t, 42)
	got, err := ParseKeys(" " + k1.Encode() + " , " + k2.Encode())
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	if diff := cmp.Diff([]Key{k1, k2}, got); diff != "" {
		t.Errorf("ParseKeys (-want +got):\n%s", diff)
	}

	short := "2:" + strings.Repeat("A", 20)
	for _, tc := range []struct {
		in, wantErr string
	}{
		{"", "no keys given"},
		{"nocolon", "want id:base64"},
		{"0:" + k1.Encode()[2:], "positive"},
		{"x:" + k1.Encode()[2:], "positive"},
		{"1:!!!", "not base64"},
		{short, "want 32"},
		{k1.Encode() + "," + k1.Encode(), "duplicate id 1"},
	} {
		_, err := ParseKeys(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseKeys(%q) error = %v, want containing %q", tc.in, err, tc.wantErr)
		}
		if err != nil && len(tc.in) > 3 && strings.Contains(err.Error(), k1.Encode()[2:]) {
			t.Errorf("ParseKeys error reveals key material: %v", err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	k1 := mustKey(t, 1)
	for _, tc := range []struct {
		name    string
		keys    []Key
		primary uint32
	}{
		{"no keys", nil, 0},
		{"short key", []Key{{ID: 1, Secret: make([]byte, 16)}}, 0},
		{"zero id", []Key{{ID: 0, Secret: make([]byte, 32)}}, 0},
		{"duplicate id", []Key{k1, k1}, 0},
		{"absent primary", []Key{k1}, 9},
	} {
		if _, err := New(tc.keys, tc.primary); err == nil {
			t.Errorf("New(%s) = nil error, want an error", tc.name)
		}
	}
	r := mustRing(t, 0, mustKey(t, 5), k1, mustKey(t, 3))
	if got := r.Primary(); got != 5 {
		t.Errorf("Primary() with no primary given = %d, want the highest id 5", got)
	}
	if diff := cmp.Diff([]uint32{1, 3, 5}, r.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
}

func TestKeyRedacted(t *testing.T) {
	k := mustKey(t, 1)
	secret := k.Encode()[2:]
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "key", k)
	for name, s := range map[string]string{
		"String":   k.String(),
		"%v":       fmt.Sprintf("%v", k),
		"%#v":      fmt.Sprintf("%#v", k),
		"%+v":      fmt.Sprintf("%+v", k),
		"slog":     logs.String(),
		"%v slice": fmt.Sprintf("%v", []Key{k}),
	} {
		if !strings.Contains(s, "REDACTED") || strings.Contains(s, secret) {
			t.Errorf("%s = %q, want REDACTED and no secret", name, s)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	r := mustRing(b, 0, mustKey(b, 1))
	plaintext := bytes.Repeat([]byte("t"), 1024)
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		if _, err := r.Seal(plaintext, "connection:c1:access_token"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	r := mustRing(b, 0, mustKey(b, 1))
	plaintext := bytes.Repeat([]byte("t"), 1024)
	sealed, err := r.Seal(plaintext, "connection:c1:access_token")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		if _, err := r.Open(sealed, "connection:c1:access_token"); err != nil {
			b.Fatal(err)
		}
	}
}
