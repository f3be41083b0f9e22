package vault

import (
	"bytes"
	"testing"
)

// TestDerive: a derived key is stable for a keyring, differs by purpose
// and by primary key, and is not the primary key itself.
func TestDerive(t *testing.T) {
	k1, err := GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := GenerateKey(2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New([]Key{k1, k2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New([]Key{k1, k2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	x := a.Derive("connect result")
	if len(x) != 32 || !bytes.Equal(x, a.Derive("connect result")) {
		t.Fatalf("Derive is not a stable 32-byte key: %d bytes", len(x))
	}
	if bytes.Equal(x, a.Derive("other")) || bytes.Equal(x, b.Derive("connect result")) || bytes.Equal(x, k1.Secret) {
		t.Error("derived keys collide across purposes, primaries or with the key itself")
	}
}
