package vault

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// Key is one keyring entry: an id carried in every ciphertext it seals and a
// 32-byte AES-256 secret. Its String, GoString and LogValue methods print
// REDACTED in place of the secret; only [Key.Encode] reveals it.
type Key struct {
	// ID identifies the key inside ciphertexts. It is never zero.
	ID uint32
	// Secret is the AES-256 key, exactly [KeySize] bytes.
	Secret []byte
}

// GenerateKey returns a new key with the given id and a secret read from
// crypto/rand.
func GenerateKey(id uint32) (Key, error) {
	if id == 0 {
		return Key{}, errors.New("key id must be positive")
	}
	k := Key{ID: id, Secret: make([]byte, KeySize)}
	if _, err := rand.Read(k.Secret); err != nil {
		return Key{}, fmt.Errorf("generate key %d: %w", id, err)
	}
	return k, nil
}

// Encode returns the key as "id:base64", the form [ParseKeys] reads. The
// result contains the secret: put it in an environment variable or a file,
// never in a log.
func (k Key) Encode() string {
	return strconv.FormatUint(uint64(k.ID), 10) + ":" + base64.StdEncoding.EncodeToString(k.Secret)
}

// String returns the key id and REDACTED, never the secret.
func (k Key) String() string { return fmt.Sprintf("vault key %d (REDACTED)", k.ID) }

// GoString is like String, so that %#v does not print the secret either.
func (k Key) GoString() string { return k.String() }

// LogValue implements [slog.LogValuer]: the id and REDACTED.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("id", uint64(k.ID)), slog.String("secret", "REDACTED"))
}

func (k Key) validate() error {
	if k.ID == 0 {
		return errors.New("key id must be positive")
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("key %d is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
	}
	return nil
}

// ParseKeys reads a comma-separated list of "id:base64" keys, as produced by
// [Key.Encode]. Ids are positive decimal integers and unique; secrets are
// standard or URL-safe base64, padded or not, of exactly 32 bytes. Errors
// name the entry by position and id and never contain key material.
func ParseKeys(s string) ([]Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no keys given")
	}
	var (
		keys []Key
		errs []error
		seen = map[uint32]bool{}
	)
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		idText, secretText, ok := strings.Cut(entry, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("key %d: want id:base64", i))
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 32)
		if err != nil || id == 0 {
			errs = append(errs, fmt.Errorf("key %d: id must be a positive 32-bit integer", i))
			continue
		}
		secret, err := decodeBase64(strings.TrimSpace(secretText))
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d (id %d): secret is not base64", i, id))
			continue
		}
		k := Key{ID: uint32(id), Secret: secret}
		if err := k.validate(); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if seen[k.ID] {
			errs = append(errs, fmt.Errorf("key %d: duplicate id %d", i, k.ID))
			continue
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, nil
}

func decodeBase64(s string) ([]byte, error) {
	var lastErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}
