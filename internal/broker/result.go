package broker

import (
	"github.com/grantd/grantd/connectresult"
)

// ResultKey returns tenantID's connect result key: what the tenant's
// application verifies connect results with (see package connectresult).
func (b *Broker) ResultKey(tenantID string) []byte {
	return connectresult.DeriveKey(b.opts.ResultSecret, tenantID)
}

// ResultURL returns res.ReturnTo with the signed outcome of the callback
// (err nil for success), or "" when the session named no return_to.
// Access denied at the provider is outcome denied; any other failure is
// outcome error with the failure's code.
func (b *Broker) ResultURL(res Connected, err error) string {
	if res.ReturnTo == "" || res.TenantID == "" {
		return ""
	}
	r := connectresult.Result{
		Outcome:      connectresult.Connected,
		ConnectionID: res.ConnectionID,
		SessionID:    res.SessionID,
		IssuedAt:     b.now(),
	}
	switch {
	case err != nil && CodeOf(err) == CodeAccessDenied:
		r.Outcome, r.Error = connectresult.Denied, string(CodeAccessDenied)
	case err != nil:
		r.Outcome, r.Error = connectresult.Error, string(CodeOf(err))
		if r.Error == "" {
			r.Error = string(CodeInternal)
		}
	case res.Reauthorized:
		r.Outcome = connectresult.Reauthorized
	}
	u, perr := connectresult.AppendTo(res.ReturnTo, b.ResultKey(res.TenantID), r)
	if perr != nil {
		return ""
	}
	return u
}
