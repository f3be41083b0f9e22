package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Version is the first byte of every ciphertext this package produces.
const Version byte = 0x01

// headerSize is the version byte plus the big-endian key id.
const headerSize = 1 + 4

// Overhead is the number of bytes a sealed value adds to its plaintext:
// the header, the 12-byte random nonce and the 16-byte GCM tag.
const Overhead = headerSize + 12 + 16

var (
	// ErrUnknownKey: the ciphertext names a key id that is not in the
	// keyring (the key was retired, or the wrong keyring was loaded).
	ErrUnknownKey = errors.New("vault: unknown key")
	// ErrTampered: the ciphertext is malformed, was modified, was sealed
	// under another key with the same id, or belongs to another row or
	// field (its associated data differs).
	ErrTampered = errors.New("vault: ciphertext is corrupt or bound to another row")
)

// Keyring seals with its primary key and opens with any of its keys. It is
// safe for concurrent use; the zero value is not usable, build one with
// [New].
type Keyring struct {
	primary uint32
	aeads   map[uint32]cipher.AEAD
	ids     []uint32 // ascending
	keys    map[uint32][]byte
}

// New returns a keyring holding keys, sealing with the key whose id is
// primary, or with the highest id when primary is 0. Every key must be 32
// bytes with a positive, unique id, and the primary must be among them.
// New copies the secrets; the caller may clear its slices afterwards.
func New(keys []Key, primary uint32) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("vault: no keys")
	}
	k := &Keyring{aeads: make(map[uint32]cipher.AEAD, len(keys)), keys: make(map[uint32][]byte, len(keys))}
	for _, key := range keys {
		if err := key.validate(); err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("vault: duplicate key id %d", key.ID)
		}
		secret := slices.Clone(key.Secret)
		block, err := aes.NewCipher(secret)
		if err != nil {
			return nil, fmt.Errorf("vault: key %d: %w", key.ID, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("vault: key %d: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.keys[key.ID] = secret
		k.ids = append(k.ids, key.ID)
	}
	slices.Sort(k.ids)
	if primary == 0 {
		primary = k.ids[len(k.ids)-1]
	}
	if _, ok := k.aeads[primary]; !ok {
		return nil, fmt.Errorf("vault: primary key %d is not in the keyring (have %v)", primary, k.ids)
	}
	k.primary = primary
	return k, nil
}

// Primary returns the id of the key that seals new values.
func (k *Keyring) Primary() uint32 { return k.primary }

// IDs returns the ids of every key in the keyring, in ascending order.
func (k *Keyring) IDs() []uint32 { return slices.Clone(k.ids) }

// AAD returns the associated data that binds a sealed value to its place:
// table + ":" + rowID + ":" + field, for example
// AAD("integration", id, "client_secret"). Pass the same value to
// [Keyring.Seal] and [Keyring.Open].
func AAD(table, rowID, field string) string { return table + ":" + rowID + ":" + field }

// Seal encrypts plaintext under the primary key, binding it to aad (see
// [AAD]). The result is [Overhead] bytes longer than plaintext. Each call
// uses a fresh random nonce, so sealing the same value twice gives two
// different ciphertexts.
func (k *Keyring) Seal(plaintext []byte, aad string) ([]byte, error) {
	return k.sealWith(k.primary, plaintext, aad)
}

func (k *Keyring) sealWith(id uint32, plaintext []byte, aad string) ([]byte, error) {
	aead := k.aeads[id]
	out := make([]byte, headerSize, Overhead+len(plaintext))
	out[0] = Version
	binary.BigEndian.PutUint32(out[1:headerSize], id)
	return aead.Seal(out, nil, plaintext, additionalData(out[:headerSize], aad)), nil
}

// Open decrypts a value produced by [Keyring.Seal] with the same aad. It
// returns an error wrapping [ErrUnknownKey] when the key id is not in the
// keyring and [ErrTampered] for any other failure; it never returns
// plaintext that did not authenticate.
func (k *Keyring) Open(ciphertext []byte, aad string) ([]byte, error) {
	id, err := k.KeyID(ciphertext)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("open with key %d: %w", id, ErrUnknownKey)
	}
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("open: %d bytes is too short: %w", len(ciphertext), ErrTampered)
	}
	plaintext, err := aead.Open(nil, nil, ciphertext[headerSize:], additionalData(ciphertext[:headerSize], aad))
	if err != nil {
		return nil, fmt.Errorf("open with key %d: %w", id, ErrTampered)
	}
	return plaintext, nil
}

// KeyID returns the id of the key that sealed ciphertext, without opening
// it. The rotation job uses it to find values not yet under the primary key.
func (k *Keyring) KeyID(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < headerSize {
		return 0, fmt.Errorf("read key id: %d bytes is too short: %w", len(ciphertext), ErrTampered)
	}
	if ciphertext[0] != Version {
		return 0, fmt.Errorf("read key id: unsupported version 0x%02x: %w", ciphertext[0], ErrTampered)
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerSize]), nil
}

// Rewrap returns ciphertext sealed under the primary key. A value already
// under the primary is authenticated and returned unchanged (the same
// slice), so callers can skip the write when KeyID equals Primary; any other
// value is opened with its own key and sealed again. Plaintext never leaves
// the keyring.
func (k *Keyring) Rewrap(ciphertext []byte, aad string) ([]byte, error) {
	plaintext, err := k.Open(ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("rewrap: %w", err)
	}
	defer clear(plaintext)
	if id, _ := k.KeyID(ciphertext); id == k.primary {
		return ciphertext, nil
	}
	return k.Seal(plaintext, aad)
}

// additionalData authenticates the header together with the caller's aad,
// so the version and key id cannot be changed without detection.
func additionalData(header []byte, aad string) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}
