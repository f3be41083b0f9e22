package orgmap

import (
	"net/http"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/httpapi"
)

// Routes adds the organisation and mapping routes to the JSON API, behind
// its tenant authentication:
//
//	PUT    /v1/organizations
//	GET    /v1/organizations
//	GET    /v1/connections/{id}/org-mappings[?refresh=true]
//	PUT    /v1/connections/{id}/org-mappings/{companyId}
//	DELETE /v1/connections/{id}/org-mappings/{companyId}
//	POST   /v1/connections/{id}/org-mappings/accept-suggestions
//	POST   /v1/connections/{id}/mapping-links
func (s *Service) Routes(srv *api.Server) {
	srv.Handle("PUT /v1/organizations", s.putOrganizations)
	srv.Handle("GET /v1/organizations", s.listOrganizations)
	srv.Handle("GET /v1/connections/{id}/org-mappings", s.getMappings)
	srv.Handle("PUT /v1/connections/{id}/org-mappings/{companyId}", s.putMapping)
	srv.Handle("DELETE /v1/connections/{id}/org-mappings/{companyId}", s.deleteMapping)
	srv.Handle("POST /v1/connections/{id}/org-mappings/accept-suggestions", s.acceptSuggestions)
	srv.Handle("POST /v1/connections/{id}/mapping-links", s.createLink)
}

// maxBody bounds a request body: an upload of [MaxOrganizations] fits.
const maxBody = 32 << 20

func tenant(r *http.Request) string {
	id, _ := api.TenantFrom(r.Context())
	return id
}

func badRequest(msg string, err error) error {
	return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Message: msg, Err: err}
}

// decode reads a JSON body into v strictly ([httpapi.Decoder]):
// application/json or no Content-Type (else 415), at most maxBody (else
// 413). An empty body is allowed when optional is set.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	return decodeLimit(r, v, optional, maxBody)
}

// decodeLimit is decode with a body limit of limit bytes.
func decodeLimit(r *http.Request, v any, optional bool, limit int64) error {
	return httpapi.Decoder{MaxBytes: limit, AllowEmpty: optional}.Decode(r, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	httpapi.NoStore(w)
	return httpapi.WriteJSON(w, status, v)
}

type organizationsJSON struct {
	Organizations []Organization `json:"organizations"`
}

func (s *Service) putOrganizations(w http.ResponseWriter, r *http.Request) error {
	var req organizationsJSON
	if err := decodeLimit(r, &req, false, s.opts.MaxUpload); err != nil {
		return err
	}
	if req.Organizations == nil {
		return badRequest(`"organizations" is required (an empty list clears them)`, nil)
	}
	if err := s.PutOrganizations(r.Context(), tenant(r), req.Organizations); err != nil {
		return err
	}
	return s.listOrganizations(w, r)
}

func (s *Service) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.Organizations(r.Context(), tenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, organizationsJSON{Organizations: orgs})
}

// getMappings answers from the connection's cached company list, or, with
// ?refresh=true (or 1), from a new listing.
func (s *Service) getMappings(w http.ResponseWriter, r *http.Request) error {
	fresh, err := refreshParam(r)
	if err != nil {
		return err
	}
	res, err := s.get(r.Context(), tenant(r), r.PathValue("id"), fresh)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// refreshParam reads the refresh query parameter: absent is false.
func refreshParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("refresh")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(`"refresh" must be true or false`, err)
	}
	return b, nil
}

type putMappingJSON struct {
	OrgID string `json:"org_id"`
}

func (s *Service) putMapping(w http.ResponseWriter, r *http.Request) error {
	var req putMappingJSON
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.OrgID == "" {
		return badRequest(`"org_id" is required`, nil)
	}
	m, err := s.Set(r.Context(), tenant(r), r.PathValue("id"), r.PathValue("companyId"), req.OrgID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Service) deleteMapping(w http.ResponseWriter, r *http.Request) error {
	if err := s.Delete(r.Context(), tenant(r), r.PathValue("id"), r.PathValue("companyId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type acceptJSON struct {
	CompanyIDs []string `json:"company_ids"`
}

type mappingsJSON struct {
	Mappings []Mapping `json:"mappings"`
}

func (s *Service) acceptSuggestions(w http.ResponseWriter, r *http.Request) error {
	var req acceptJSON
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	ms, err := s.AcceptSuggestions(r.Context(), tenant(r), r.PathValue("id"), req.CompanyIDs...)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, mappingsJSON{Mappings: ms})
}

type linkJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Service) createLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.CreateLink(r.Context(), tenant(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, linkJSON(l))
}
