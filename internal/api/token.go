package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/httpapi"
)

// token is the hot path: GET /v1/connections/{id}/token. With the key and
// the token cached it reads no database, uses no reflection and writes the
// body from a pooled buffer.
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	t, err := s.broker.TenantToken(r.Context(), callerTenant(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeToken(w, t)
}

// refreshConnection forces a refresh: POST /v1/connections/{id}/refresh,
// with an optional body {"access_token": "…"} naming the token the caller
// saw fail. When the stored token has moved on since, the newer one is
// returned and nothing is sent; a forced refresh inside the connection's
// throttle window answers 429 with Retry-After.
func (s *Server) refreshConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	// Check ownership first so another tenant's connection is never
	// refreshed (SEC-43).
	if _, err := s.broker.Connection(r.Context(), callerTenant(r), id); err != nil {
		return err
	}
	var in struct {
		AccessToken string `json:"access_token"`
	}
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	t, err := s.broker.Refresh(r.Context(), id, in.AccessToken)
	if err != nil {
		return err
	}
	return s.writeToken(w, t)
}

// writeToken writes
//
//	{"access_token","token_type","expires_at","expires_in","scopes","connection_id","provider"}
//
// with Cache-Control: no-store (RFC 6749 §5.1). expires_at and expires_in
// are omitted when the expiry is unknown.
func (s *Server) writeToken(w http.ResponseWriter, t broker.Token) error {
	buf := httpapi.GetBuffer()
	defer httpapi.PutBuffer(buf)
	b := append(buf.B[:0], `{"access_token":`...)
	b = httpapi.AppendString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	tt := t.TokenType
	if tt == "" {
		tt = "Bearer"
	}
	b = httpapi.AppendString(b, tt)
	if !t.ExpiresAt.IsZero() {
		b = append(b, `,"expires_at":"`...)
		b = t.ExpiresAt.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, `","expires_in":`...)
		b = strconv.AppendInt(b, max(0, int64(t.ExpiresAt.Sub(s.now())/time.Second)), 10)
	}
	b = append(b, `,"scopes":[`...)
	for i, sc := range t.Scopes {
		if i > 0 {
			b = append(b, ',')
		}
		b = httpapi.AppendString(b, sc)
	}
	b = append(b, `],"connection_id":`...)
	b = httpapi.AppendString(b, t.ConnectionID)
	b = append(b, `,"provider":`...)
	b = httpapi.AppendString(b, t.Provider)
	b = append(b, "}\n"...)
	buf.B = b

	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = noStore
	h["Pragma"] = noCache
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

var noCache = []string{"no-cache"}
