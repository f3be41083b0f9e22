package config

import "log/slog"

// Secret is a credential read from the environment or a file: an admin
// key, a client secret, a partner token. Its String, GoString, LogValue,
// MarshalText and MarshalJSON methods print REDACTED, so a Secret can be
// logged or dumped with its config without leaking; [Secret.Reveal]
// returns the value. The zero value is the empty (missing) secret.
type Secret string

// Redacted is what a Secret prints as.
const Redacted = "REDACTED"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns REDACTED, or "" for the empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString is like String, for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue implements [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements [encoding.TextMarshaler]; it never reveals the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
