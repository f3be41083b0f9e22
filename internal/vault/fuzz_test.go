package vault

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen is ENC-02 and SEC-63 under fuzzing: a value sealed by the
// keyring opens to its plaintext with its own aad, and never opens once
// any byte is changed, when it is cut short or lengthened, or with another
// aad; arbitrary bytes never open, and Open never panics. Every failure is
// ErrTampered or ErrUnknownKey.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("refresh-token"), "connection:c1:refresh_token", "connection:c2:refresh_token", uint16(0), byte(1), []byte{})
	f.Add([]byte{}, "", "x", uint16(5), byte(0x80), []byte{1, 0, 0, 0, 1})
	f.Add([]byte("secret"), "a:b:c", "a:b:c", uint16(40), byte(0xff), []byte{1, 0, 0, 0, 9, 1, 2, 3})
	k1, k2 := mustKey(f, 1), mustKey(f, 2)
	kr, err := New([]Key{k1, k2}, 2)
	if err != nil {
		f.Fatal(err)
	}
	old, err := New([]Key{k1}, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, plaintext []byte, aad, otherAAD string, pos uint16, flip byte, raw []byte) {
		check := func(what string, ct []byte, aad string) {
			got, err := kr.Open(ct, aad)
			if err == nil {
				t.Fatalf("%s: Open succeeded with %q", what, got)
			}
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("%s: Open error %v is neither ErrTampered nor ErrUnknownKey", what, err)
			}
		}
		for _, sealer := range []*Keyring{kr, old} {
			ct, err := sealer.Seal(plaintext, aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			got, err := kr.Open(ct, aad)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Fatalf("Open(Seal(%q)) = %q, %v", plaintext, got, err)
			}
			if flip != 0 {
				tampered := bytes.Clone(ct)
				tampered[int(pos)%len(ct)] ^= flip
				check("one byte changed", tampered, aad)
			}
			check("cut short", ct[:int(pos)%len(ct)], aad)
			check("lengthened", append(bytes.Clone(ct), flip), aad)
			if otherAAD != aad {
				check("another aad", ct, otherAAD)
			}
		}
		check("arbitrary bytes", raw, aad)
	})
}
