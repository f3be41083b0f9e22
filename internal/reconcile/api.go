package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/httpapi"
)

// Routes adds the billing, product mapping and reconciliation routes to
// the JSON API, behind its tenant authentication:
//
//	PUT    /v1/billing/{period}   (JSON lines, or CSV with Content-Type text/csv)
//	POST   /v1/billing/{period}   (the same, for form-style CSV uploads)
//	GET    /v1/billing/{period}
//	GET    /v1/connections/{id}/product-mappings?period=
//	PUT    /v1/connections/{id}/product-mappings/{key}
//	DELETE /v1/connections/{id}/product-mappings/{key}
//	POST   /v1/connections/{id}/product-mappings/accept-suggestions
//	GET    /v1/connections/{id}/reconciliation?period=
//	GET    /v1/connections/{id}/reconciliation/report?period=&sort=&dir=
func (s *Service) Routes(srv *api.Server) {
	srv.Handle("PUT /v1/billing/{period}", s.putBilling)
	srv.Handle("POST /v1/billing/{period}", s.putBilling)
	srv.Handle("GET /v1/billing/{period}", s.getBilling)
	srv.Handle("GET /v1/connections/{id}/product-mappings", s.getProductMappings)
	srv.Handle("PUT /v1/connections/{id}/product-mappings/{key}", s.putProductMapping)
	srv.Handle("DELETE /v1/connections/{id}/product-mappings/{key}", s.deleteProductMapping)
	srv.Handle("POST /v1/connections/{id}/product-mappings/accept-suggestions", s.acceptProductSuggestions)
	srv.Handle("GET /v1/connections/{id}/reconciliation", s.getReconciliation)
	srv.Handle("GET /v1/connections/{id}/reconciliation/report", s.getReport)
}

// maxUpload bounds a billing upload body.
const maxUpload = 32 << 20

func tenant(r *http.Request) string {
	id, _ := api.TenantFrom(r.Context())
	return id
}

func badRequest(msg string, err error) error {
	return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Message: msg, Err: err}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	httpapi.NoStore(w)
	return httpapi.WriteJSON(w, status, v)
}

func pathPeriod(r *http.Request) (Period, error) {
	p, err := ParsePeriod(r.PathValue("period"))
	if err != nil {
		return Period{}, badRequest(err.Error(), nil)
	}
	return p, nil
}

func queryPeriod(r *http.Request) (Period, error) {
	v := r.URL.Query().Get("period")
	if v == "" {
		return Period{}, &httpapi.Error{Code: httpapi.CodeInvalidRequest, Field: "period", Message: `"period" is required (YYYY-MM)`}
	}
	p, err := ParsePeriod(v)
	if err != nil {
		return Period{}, &httpapi.Error{Code: httpapi.CodeInvalidRequest, Field: "period", Message: err.Error()}
	}
	return p, nil
}

// billingJSON is a period's billing as the API returns it.
type billingJSON struct {
	Period Period            `json:"period"`
	Lines  []billingLineJSON `json:"lines"`
}

type billingLineJSON struct {
	Line      int    `json:"line"`
	Org       string `json:"org"`
	Product   string `json:"product"`
	Quantity  string `json:"quantity"`
	UnitPrice string `json:"unit_price"`
}

func (s *Service) putBilling(w http.ResponseWriter, r *http.Request) error {
	period, err := pathPeriod(r)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	parse := ParseBillingJSONLines
	switch ct {
	case "text/csv":
		parse = ParseBillingCSV
	case "application/x-ndjson", "application/jsonl", "application/json-lines", "application/json":
	default:
		return &httpapi.Error{Status: http.StatusUnsupportedMediaType, Code: httpapi.CodeInvalidRequest,
			Message: "send the billing as JSON lines (application/x-ndjson) or CSV (text/csv)"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: httpapi.CodeRequestTooLarge,
			Message: fmt.Sprintf("the billing upload is larger than %d MiB", maxUpload>>20), Err: err}
	}
	if err != nil {
		return badRequest("the billing upload could not be read", err)
	}
	lines, err := parse(bytes.NewReader(body))
	if ps, ok := err.(Problems); ok {
		return problemsError(ps)
	}
	if err != nil {
		return badRequest("the billing upload could not be read", err)
	}
	if err := s.PutBilling(r.Context(), tenant(r), period, lines); err != nil {
		return err
	}
	return s.getBilling(w, r)
}

func (s *Service) getBilling(w http.ResponseWriter, r *http.Request) error {
	period, err := pathPeriod(r)
	if err != nil {
		return err
	}
	lines, err := s.Billing(r.Context(), tenant(r), period)
	if err != nil {
		return err
	}
	out := billingJSON{Period: period, Lines: []billingLineJSON{}}
	for _, l := range lines {
		out.Lines = append(out.Lines, billingLineJSON{Line: l.Line, Org: l.OrgID, Product: l.Product,
			Quantity: l.Quantity.String(), UnitPrice: l.UnitPrice.String()})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Service) getProductMappings(w http.ResponseWriter, r *http.Request) error {
	period, err := queryPeriod(r)
	if err != nil {
		return err
	}
	res, err := s.ProductMappings(r.Context(), tenant(r), r.PathValue("id"), period)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

type putProductJSON struct {
	ProductID string `json:"product_id"`
	Period    string `json:"period"`
}

func (s *Service) putProductMapping(w http.ResponseWriter, r *http.Request) error {
	var req putProductJSON
	if err := (httpapi.Decoder{MaxBytes: 1 << 20}).Decode(r, &req); err != nil {
		return err
	}
	period, err := ParsePeriod(req.Period)
	if err != nil {
		return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Field: "/period", Message: err.Error()}
	}
	m, err := s.SetProductMapping(r.Context(), tenant(r), r.PathValue("id"), r.PathValue("key"), req.ProductID, period)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Service) deleteProductMapping(w http.ResponseWriter, r *http.Request) error {
	if err := s.DeleteProductMapping(r.Context(), tenant(r), r.PathValue("id"), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type acceptProductsJSON struct {
	Period      string   `json:"period"`
	ProductKeys []string `json:"product_keys"`
}

func (s *Service) acceptProductSuggestions(w http.ResponseWriter, r *http.Request) error {
	var req acceptProductsJSON
	if err := (httpapi.Decoder{MaxBytes: 1 << 20}).Decode(r, &req); err != nil {
		return err
	}
	period, err := ParsePeriod(req.Period)
	if err != nil {
		return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Field: "/period", Message: err.Error()}
	}
	ms, err := s.AcceptProductSuggestions(r.Context(), tenant(r), r.PathValue("id"), period, req.ProductKeys...)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Mappings []ProductMapping `json:"mappings"`
	}{ms})
}

func (s *Service) getReconciliation(w http.ResponseWriter, r *http.Request) error {
	period, err := queryPeriod(r)
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		return s.streamReconciliation(w, r, period)
	}
	rep, err := s.Reconcile(r.Context(), tenant(r), r.PathValue("id"), period, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// progressJSON is one progress line of a streamed reconciliation.
type progressJSON struct {
	Stage string `json:"stage"`
	Count int    `json:"count"`
}

// streamReconciliation answers with JSON lines: {"progress":{stage,count}}
// while this request's walk of Pax8 advances, then {"report":…} or
// {"error":{code,message}}. A connection that cannot be reconciled at all
// (not found, needs_reauth) is refused before the stream starts, with the
// usual error.
func (s *Service) streamReconciliation(w http.ResponseWriter, r *http.Request, period Period) error {
	tenantID, connID := tenant(r), r.PathValue("id")
	if _, err := s.connection(r.Context(), tenantID, connID); err != nil {
		return err
	}
	events := make(chan progressJSON, 64)
	progress := func(stage string, n int) {
		select { // the walk may outlive this request: never block it
		case events <- progressJSON{stage, n}:
		default:
		}
	}
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := s.Reconcile(r.Context(), tenantID, connID, period, progress)
		done <- result{rep, err}
	}()
	httpapi.NoStore(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for {
		select {
		case ev := <-events:
			enc.Encode(map[string]any{"progress": ev})
			rc.Flush()
		case res := <-done:
			if res.err != nil {
				code, msg := httpapi.CodeInternal, "the reconciliation failed"
				if he, ok := errors.AsType[*httpapi.Error](res.err); ok {
					code, msg = he.Code, he.Message
				} else if be, ok := errors.AsType[*broker.Error](res.err); ok {
					code, msg = httpapi.Code(be.Code), be.Msg
				}
				s.log.WarnContext(r.Context(), "streamed reconciliation failed", "connection_id", connID, "err", res.err)
				return enc.Encode(map[string]any{"error": map[string]string{"code": string(code), "message": msg}})
			}
			return enc.Encode(map[string]any{"report": res.rep})
		}
	}
}
