package sandbox

import (
	"errors"
	"net/http"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
)

// newAPI builds the emulated Pax8 partner API, served relative to
// /pax8-api/v1 on the sandbox clock.
func (s *Server) newAPI(opts Options) http.Handler {
	api := pax8api.New(pax8api.Options{Now: s.Now, Seed: 1, Size: opts.APISize, Logger: s.log, Discrepancies: opts.APIDiscrepancies})
	s.pax8 = api
	return http.StripPrefix("/"+Pax8+"-api/v1", api)
}

// discrepanciesJSON is the answer of /_sandbox/pax8/discrepancies.
type discrepanciesJSON struct {
	Partner       string                `json:"partner"`
	Discrepancies []pax8api.Discrepancy `json:"discrepancies"`
}

// controlDiscrepancies serves GET /_sandbox/pax8/discrepancies?partner=
// (the discrepancies seeded in that partner's data) and POST with
// {"partner"} (seed them now, then answer the same). The partner is the
// access token's subject: "<client_id>@clients" for partner API
// credentials.
func (s *Server) controlDiscrepancies(w http.ResponseWriter, r *http.Request) {
	partner := r.URL.Query().Get("partner")
	if r.Method == http.MethodPost {
		var in struct {
			Partner string `json:"partner"`
		}
		if err := decodeStrict(r, &in); err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		partner = in.Partner
	}
	if partner == "" {
		controlError(w, http.StatusBadRequest, errors.New(`partner is required: the token subject, "<client_id>@clients" for partner API credentials`))
		return
	}
	out := discrepanciesJSON{Partner: partner}
	if r.Method == http.MethodPost {
		out.Discrepancies = s.pax8.SeedDiscrepancies(partner)
	} else {
		out.Discrepancies = s.pax8.Discrepancies(partner)
	}
	if out.Discrepancies == nil {
		out.Discrepancies = []pax8api.Discrepancy{}
	}
	writeJSON(w, http.StatusOK, out)
}
