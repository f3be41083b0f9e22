package config

import "github.com/grantd/grantd/internal/redirect"

// AllowReturnTo reports whether raw may be used to send a user back to the
// application after a connect flow, per [redirect.Allowed] and
// return_to_allow (SEC-09).
func (c *Config) AllowReturnTo(raw string) bool { return redirect.Allowed(raw, c.ReturnToAllow) }
