// Package console serves the operator console under /console/: server-
// rendered pages (html/template, embed) on which the operator, signed in
// with the admin key, sees and manages the whole fleet, and a tenant,
// signed in with its API key, sees and manages its own integrations and
// connections alone.
//
// Sessions are stored server-side (only the SHA-256 of the cookie's random
// value); every form carries a CSRF token derived from the session, and a
// form without it is refused with 403 before anything changes. Pages are
// never framed and run no script.
package console
