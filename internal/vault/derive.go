package vault

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// Derive returns a 32-byte key for purpose, derived with HKDF-SHA256 from
// the primary key. It changes when the primary key changes; a caller that
// hands the derived key to others should prefer a secret of its own.
func (k *Keyring) Derive(purpose string) []byte {
	out, err := hkdf.Key(sha256.New, k.keys[k.primary], nil, "grantd vault derive: "+purpose, 32)
	if err != nil {
		panic("vault: hkdf: " + err.Error()) // only for lengths above 255*32
	}
	return out
}
