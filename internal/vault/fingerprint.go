package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// fingerprintLabel is the fixed message MACed under each key. Changing it
// invalidates every stored fingerprint.
const fingerprintLabel = "grantd vault key fingerprint v1"

// fingerprintPrefix starts every fingerprint string.
const fingerprintPrefix = "v1"

// ErrWrongKey means the keyring does not match the fingerprint stored with
// the data. The server must refuse to start (ENC-06).
var ErrWrongKey = errors.New("vault: keyring does not match the stored fingerprint")

// Fingerprint describes the keyring without revealing it:
//
//	v1;primary=<id>;<id>=<hex>;<id>=<hex>…
//
// with one entry per key, in ascending id order, each the first 16 bytes of
// HMAC-SHA256(key, "grantd vault key fingerprint v1"). It is safe to store
// and to log. Store it when the database is created, call [Keyring.Check]
// with it at every start, and store the new fingerprint after a successful
// check so that added keys are recorded.
func (k *Keyring) Fingerprint() string {
	var b strings.Builder
	b.WriteString(fingerprintPrefix)
	b.WriteString(";primary=")
	b.WriteString(strconv.FormatUint(uint64(k.primary), 10))
	for _, id := range k.ids {
		fmt.Fprintf(&b, ";%d=%s", id, keyFingerprint(k.keys[id]))
	}
	return b.String()
}

func keyFingerprint(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Check compares the keyring with a fingerprint stored earlier by
// [Keyring.Fingerprint]. The rule is:
//
//   - every key id present both in stored and in the keyring must have the
//     same fingerprint: a different secret under a known id is a wrong key;
//   - the primary key recorded in stored must still be in the keyring, since
//     values sealed since that fingerprint was stored are under it;
//   - other keys recorded in stored may be missing: they were retired after
//     a completed [Keyring.Rewrap] (values still sealed under them fail with
//     [ErrUnknownKey]);
//   - keys in the keyring but not in stored are new and accepted.
//
// An empty stored value means nothing was sealed yet and passes. Errors wrap
// [ErrWrongKey] and name key ids only.
func (k *Keyring) Check(stored string) error {
	if stored == "" {
		return nil
	}
	parts := strings.Split(stored, ";")
	if parts[0] != fingerprintPrefix || len(parts) < 3 {
		return fmt.Errorf("check keyring: malformed stored fingerprint: %w", ErrWrongKey)
	}
	primaryText, ok := strings.CutPrefix(parts[1], "primary=")
	if !ok {
		return fmt.Errorf("check keyring: malformed stored fingerprint: %w", ErrWrongKey)
	}
	storedPrimary, err := strconv.ParseUint(primaryText, 10, 32)
	if err != nil {
		return fmt.Errorf("check keyring: malformed stored primary: %w", ErrWrongKey)
	}
	var errs []error
	primaryListed := false
	for _, entry := range parts[2:] {
		idText, fp, ok := strings.Cut(entry, "=")
		id, err := strconv.ParseUint(idText, 10, 32)
		if !ok || err != nil {
			return fmt.Errorf("check keyring: malformed stored entry: %w", ErrWrongKey)
		}
		primaryListed = primaryListed || id == storedPrimary
		secret, have := k.keys[uint32(id)]
		switch {
		case !have && id == storedPrimary:
			errs = append(errs, fmt.Errorf("key %d, the primary when the data was last written, is missing", id))
		case !have:
			// Retired after rewrap.
		case subtle.ConstantTimeCompare([]byte(keyFingerprint(secret)), []byte(fp)) != 1:
			errs = append(errs, fmt.Errorf("key %d is not the key the data was sealed with", id))
		}
	}
	if !primaryListed {
		return fmt.Errorf("check keyring: stored primary %d has no fingerprint: %w", storedPrimary, ErrWrongKey)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check keyring: %w: %w", ErrWrongKey, errors.Join(errs...))
	}
	return nil
}
