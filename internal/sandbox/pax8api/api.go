package pax8api

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"
)

// Size sets how much data each partner's generated dataset holds. Zero fields
// take the defaults: 25 companies, 120 subscriptions and 40 products.
type Size struct {
	Companies, Subscriptions, Products int
}

// Default dataset sizes used for zero [Size] fields.
const (
	DefaultCompanies     = 25
	DefaultSubscriptions = 120
	DefaultProducts      = 40
)

// Options configures an [API]. The zero value is usable: the real clock,
// seed 0 and the default [Size].
type Options struct {
	// Now is the clock used for generated dates, validations and writes;
	// nil means time.Now.
	Now func() time.Time
	// Seed selects the generated data. The same Seed and partner always
	// yield the same dataset.
	Seed int64
	// Size sets the number of records generated per partner.
	Size Size
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Discrepancies seeds each partner's dataset with one invoice
	// discrepancy of each category when it is generated (see
	// [API.SeedDiscrepancies]).
	Discrepancies bool
}

// API is the emulated Pax8 partner REST API. It serves paths relative to the
// API base (/companies, /subscriptions/{id}, …) and expects the sandbox's auth
// middleware to have put the partner in the request context with
// [WithPartner]. An API is safe for concurrent use.
type API struct {
	now     func() time.Time
	seed    int64
	size    Size
	discrep bool
	log     *slog.Logger
	catalog *catalog
	mux     *http.ServeMux

	mu       sync.Mutex
	partners map[string]*partnerEntry
}

type partnerEntry struct {
	once sync.Once
	d    *dataset
}

// New returns an API that generates each partner's dataset on first use.
func New(opts Options) *API {
	a := &API{
		now:      opts.Now,
		seed:     opts.Seed,
		size:     opts.Size,
		discrep:  opts.Discrepancies,
		log:      opts.Logger,
		mux:      http.NewServeMux(),
		partners: make(map[string]*partnerEntry),
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.size.Companies <= 0 {
		a.size.Companies = DefaultCompanies
	}
	if a.size.Subscriptions <= 0 {
		a.size.Subscriptions = DefaultSubscriptions
	}
	if a.size.Products <= 0 {
		a.size.Products = DefaultProducts
	}
	a.catalog = newCatalog(a.seed, a.size.Products)
	a.routes()
	return a
}

type partnerKey struct{}

// WithPartner returns a copy of ctx that carries the partner id (the access
// token's subject) whose dataset requests are served from.
func WithPartner(ctx context.Context, partnerID string) context.Context {
	return context.WithValue(ctx, partnerKey{}, partnerID)
}

// PartnerFrom returns the partner id set by [WithPartner].
func PartnerFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(partnerKey{}).(string)
	return id, ok
}

// Counts returns how many companies and subscriptions the partner's dataset
// holds, generating it if needed. It is meant for tests and the sandbox's
// stats.
func (a *API) Counts(partnerID string) (companies, subscriptions int) {
	d := a.dataset(partnerID)
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.companies), len(d.subs)
}

// dataset returns the partner's dataset, generating it once.
func (a *API) dataset(partnerID string) *dataset {
	a.mu.Lock()
	e, ok := a.partners[partnerID]
	if !ok {
		e = &partnerEntry{}
		a.partners[partnerID] = e
	}
	a.mu.Unlock()
	e.once.Do(func() {
		e.d = generate(a.seed, partnerID, a.size, a.catalog, a.now())
		if a.discrep {
			e.d.discrepancies, e.d.seeded = seedDiscrepancies(e.d, a.now()), true
		}
	})
	return e.d
}

// handlerFunc serves one endpoint from the partner's dataset. Errors of type
// *apiError reach the client as Pax8 error bodies; any other error is logged
// and reported as a 500 without detail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, d *dataset) error

func (a *API) routes() {
	a.handle("GET /companies", a.listCompanies)
	a.handle("POST /companies", a.createCompany)
	a.handle("GET /companies/{companyId}", a.getCompany)
	a.handle("PATCH /companies/{companyId}", a.updateCompany)
	a.handle("GET /companies/{companyId}/contacts", a.listContacts)
	a.handle("POST /companies/{companyId}/contacts", a.createContact)
	a.handle("GET /companies/{companyId}/contacts/{contactId}", a.getContact)
	a.handle("PUT /companies/{companyId}/contacts/{contactId}", a.updateContact)
	a.handle("DELETE /companies/{companyId}/contacts/{contactId}", a.deleteContact)
	a.handle("GET /products", a.listProducts)
	a.handle("GET /products/{productId}", a.getProduct)
	a.handle("GET /products/{productId}/provision-details", a.getProvisionDetails)
	a.handle("GET /products/{productId}/pricing", a.getPricing)
	a.handle("GET /products/{productId}/dependencies", a.getDependencies)
	a.handle("GET /orders", a.listOrders)
	a.handle("POST /orders", a.createOrder)
	a.handle("GET /orders/{orderId}", a.getOrder)
	a.handle("GET /subscriptions", a.listSubscriptions)
	a.handle("GET /subscriptions/{subscriptionId}", a.getSubscription)
	a.handle("PUT /subscriptions/{subscriptionId}", a.updateSubscription)
	a.handle("DELETE /subscriptions/{subscriptionId}", a.cancelSubscription)
	a.handle("GET /subscriptions/{subscriptionId}/history", a.getSubscriptionHistory)
	a.handle("GET /subscriptions/{subscriptionId}/usage-summaries", a.listUsageSummaries)
	a.handle("GET /usage-summaries/{usageSummaryId}", a.getUsageSummary)
	a.handle("GET /usage-summaries/{usageSummaryId}/usage-lines", a.listUsageLines)
	a.handle("GET /invoices", a.listInvoices)
	a.handle("GET /invoices/{invoiceId}", a.getInvoice)
	a.handle("GET /invoices/{invoiceId}/items", a.listInvoiceItems)
}

func (a *API) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		partner, ok := PartnerFrom(r.Context())
		if !ok {
			writeError(w, r, newError(http.StatusUnauthorized, "UNAUTHORIZED", "No valid API key provided"))
			return
		}
		if err := h(w, r, a.dataset(partner)); err != nil {
			a.fail(w, r, err)
		}
	})
}

// fail is the one place where handler errors become responses.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*apiError](err); ok {
		writeError(w, r, e)
		return
	}
	a.log.ErrorContext(r.Context(), "pax8api request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	writeError(w, r, newError(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal Server Error"))
}

// ServeHTTP serves the partner API. Paths are relative to the API base, so
// the sandbox mounts it with [http.StripPrefix]. Unknown paths and methods get
// Pax8 error bodies rather than the mux's plain-text ones.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		// Serve through the mux itself: only its ServeHTTP sets the
		// request's path values.
		a.mux.ServeHTTP(w, r)
		return
	}
	rec := &headerRecorder{header: make(http.Header)}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		writeError(w, r, newError(http.StatusNotFound, "NOT_FOUND", "Resource Not Found: "+r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, r, newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method Not Allowed: "+r.Method))
	default:
		// A redirect to a cleaned path: pass it through without a body.
		maps.Copy(w.Header(), rec.header)
		w.WriteHeader(rec.status)
	}
}

// headerRecorder captures the status and headers the mux writes for requests
// no pattern matches, and drops its plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}

func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
