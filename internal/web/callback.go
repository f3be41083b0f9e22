package web

import (
	"net/http"

	"github.com/grantd/grantd/internal/store"
)

// successPage is the data of the success template.
type successPage struct {
	Product    string
	Provider   string
	Connection store.Connection
}

// callback is GET /oauth/callback/{integration}: the provider sends the
// browser back here with the code (or an error). Whatever happens, the
// response has Referrer-Policy: no-referrer and Cache-Control: no-store,
// loads nothing from third parties, and the code goes nowhere else
// (SEC-10).
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("Referrer-Policy", "no-referrer")
	secret := ""
	if c, err := r.Cookie(FlowCookie); err == nil {
		secret = c.Value
	}
	res, err := h.broker.Callback(r.Context(), r.PathValue("integration"), r.URL.Query(), secret)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if res.ReturnTo != "" {
		// The allow-listed URL from the link, untouched: nothing from the
		// authorization response is carried over.
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
		return
	}
	name := res.Connection.Provider
	if p, ok := h.broker.Providers().Get(res.Connection.Provider); ok {
		name = p.DisplayName
	}
	h.page(w, r, http.StatusOK, "success", successPage{Product: h.name, Provider: name, Connection: res.Connection})
}
