package orgmap

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/store"
	upstreamhttp "github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// Options configures a [Service]. Broker, Store and Transport are
// required.
type Options struct {
	Broker *broker.Broker
	Store  store.Store
	// Transport authorises the Pax8 requests: a [*upstreamhttp.Transport], which
	// takes the token from the broker for the connection the Service names
	// in each request's context, and retries once after a 401.
	Transport http.RoundTripper
	// PublicURL is where browsers reach grantd (default the broker's).
	PublicURL string
	// LinkTTL bounds a mapping page link (default 1 h).
	LinkTTL time.Duration
	// Threshold is the lowest name similarity suggested (default
	// [DefaultThreshold]).
	Threshold float64
	// Concurrency bounds the company pages fetched at once (default 4).
	Concurrency int
	// Timeout bounds listing a connection's companies (default 60 s).
	Timeout time.Duration
	// CompanyCacheTTL is how long [Service.Get] reuses a connection's
	// company list after listing it from Pax8 (default 60 s; negative
	// lists them on every call). [Service.Refresh] lists them again, but
	// at most once per CompanyCacheTTL and connection.
	CompanyCacheTTL time.Duration
	// CompanyCacheSize bounds the connections whose company lists are
	// kept at once (default 1,000).
	CompanyCacheSize int
	// MaxUpload bounds the body of PUT /v1/organizations, a tenant's
	// organisation import (default 32 MiB, which fits
	// [MaxOrganizations]; negative: no limit); a larger body is refused
	// with 413.
	MaxUpload int64
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service keeps the organisation mappings of every tenant's connections.
// It is safe for concurrent use.
type Service struct {
	opts  Options
	b     *broker.Broker
	st    store.Store
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	cache *companyCache // nil when CompanyCacheTTL is negative
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	var errs []error
	if opts.Broker == nil {
		errs = append(errs, errors.New("orgmap: Broker is required"))
	}
	if opts.Store == nil {
		errs = append(errs, errors.New("orgmap: Store is required"))
	}
	if opts.Transport == nil {
		errs = append(errs, errors.New("orgmap: Transport is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.PublicURL == "" {
		opts.PublicURL = opts.Broker.PublicURL()
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CompanyCacheTTL == 0 {
		opts.CompanyCacheTTL = DefaultCompanyCacheTTL
	}
	if opts.CompanyCacheSize <= 0 {
		opts.CompanyCacheSize = 1000
	}
	switch {
	case opts.MaxUpload == 0:
		opts.MaxUpload = maxBody
	case opts.MaxUpload < 0:
		opts.MaxUpload = math.MaxInt64 // no limit
	}
	s := &Service{
		opts: opts,
		b:    opts.Broker,
		st:   opts.Store,
		hc:   &http.Client{Transport: opts.Transport},
		log:  opts.Logger,
		now:  opts.Now,
	}
	if opts.CompanyCacheTTL > 0 {
		s.cache = newCompanyCache(opts.CompanyCacheTTL, opts.CompanyCacheSize, opts.Now)
	}
	return s, nil
}

// DefaultCompanyCacheTTL is how long a connection's company list is
// reused unless [Options.CompanyCacheTTL] says otherwise: long enough for
// the views and posts of one mapping session to list the companies once,
// short enough that a company added at Pax8 shows within a minute.
const DefaultCompanyCacheTTL = time.Minute

// errorf returns a broker error, which the API's error adapter maps to a
// status and shows with msg.
func errorf(code broker.Code, cause error, format string, args ...any) error {
	return &broker.Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// client returns a Pax8 client acting for the tenant's connection, and the
// context its requests must carry. Another tenant's connection is not
// found (SEC-43).
func (s *Service) client(ctx context.Context, tenantID, connID string) (context.Context, *pax8.Client, store.Connection, error) {
	c, err := s.b.Connection(ctx, tenantID, connID)
	if err != nil {
		return nil, nil, store.Connection{}, err
	}
	p, ok := s.b.Providers().Get(c.Provider)
	if !ok || p.API.BaseURL == "" {
		return nil, nil, store.Connection{}, errorf(broker.CodeInvalidRequest, nil,
			"connection %s has no API to list companies from", connID)
	}
	pc := pax8.NewClient(s.hc, pax8.WithBaseURL(p.API.BaseURL), pax8.WithConcurrency(s.opts.Concurrency),
		pax8.WithLogger(s.log))
	return upstreamhttp.WithConnection(ctx, tenantID, connID), pc, c, nil
}

// upstream turns a Pax8 client error into what the caller sees: broker
// errors (needs_reauth, not found) as they are, anything else as an
// upstream failure.
func upstream(err error, what string) error {
	if _, ok := errors.AsType[*broker.Error](err); ok {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errorf(broker.CodeUpstreamDown, err, "pax8 did not answer in time while %s", what)
	}
	return errorf(broker.CodeUpstream, err, "pax8 failed while %s", what)
}

// Companies lists every company of the tenant's connection from Pax8,
// now: it does not use the cache of [Service.Get].
func (s *Service) Companies(ctx context.Context, tenantID, connID string) ([]Company, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	ctx, pc, _, err := s.client(ctx, tenantID, connID)
	if err != nil {
		return nil, err
	}
	var out []Company
	for co, err := range pc.Companies.All(ctx, &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: pax8.MaxPageSize}}) {
		if err != nil {
			return nil, upstream(err, "listing companies")
		}
		out = append(out, Company{ID: co.ID, Name: co.Name})
	}
	return out, nil
}

// Organizations returns the tenant's organisations ordered by id.
func (s *Service) Organizations(ctx context.Context, tenantID string) ([]Organization, error) {
	os, err := s.st.ListOrganizations(ctx, tenantID)
	if err != nil {
		return nil, errorf(broker.CodeInternal, err, "organizations cannot be listed")
	}
	out := make([]Organization, 0, len(os))
	for _, o := range os {
		out = append(out, Organization{ID: o.ID, Name: o.Name})
	}
	return out, nil
}

// MaxOrganizations bounds one upload of organisations.
const MaxOrganizations = 100_000

// PutOrganizations replaces the tenant's organisations. Every id and name
// must be non-empty (after trimming spaces) and ids unique; otherwise
// nothing changes.
func (s *Service) PutOrganizations(ctx context.Context, tenantID string, orgs []Organization) error {
	if len(orgs) > MaxOrganizations {
		return errorf(broker.CodeInvalidRequest, nil, "at most %d organizations may be uploaded at once", MaxOrganizations)
	}
	seen := make(map[string]bool, len(orgs))
	rows := make([]store.Organization, 0, len(orgs))
	for i, o := range orgs {
		id, name := strings.TrimSpace(o.ID), strings.TrimSpace(o.Name)
		switch {
		case id == "":
			return errorf(broker.CodeInvalidRequest, nil, "organization %d has no id", i+1)
		case name == "":
			return errorf(broker.CodeInvalidRequest, nil, "organization %q has no name", id)
		case len(id) > 200 || len(name) > 500:
			return errorf(broker.CodeInvalidRequest, nil, "organization %d: id is limited to 200 bytes and name to 500", i+1)
		case seen[id]:
			return errorf(broker.CodeInvalidRequest, nil, "organization id %q appears more than once", id)
		}
		seen[id] = true
		rows = append(rows, store.Organization{TenantID: tenantID, ID: id, Name: name})
	}
	if err := s.st.PutOrganizations(ctx, tenantID, rows); err != nil {
		return errorf(broker.CodeInternal, err, "organizations cannot be stored")
	}
	return nil
}

// Get returns the mapping state of the tenant's connection: its companies
// as listed from Pax8 within the last [Options.CompanyCacheTTL] (now, if
// they were not), against the tenant's organisations and the stored
// mappings, which are always read now. Concurrent calls for a connection
// whose list is not cached share one listing.
func (s *Service) Get(ctx context.Context, tenantID, connID string) (Result, error) {
	return s.get(ctx, tenantID, connID, false)
}

// Refresh is [Service.Get] with the companies listed from Pax8 now, unless
// they were listed within the last CompanyCacheTTL: a connection gets one
// walk of the Pax8 API per cache period however often it asks. The cache
// keeps the new list.
func (s *Service) Refresh(ctx context.Context, tenantID, connID string) (Result, error) {
	return s.get(ctx, tenantID, connID, true)
}

func (s *Service) get(ctx context.Context, tenantID, connID string, fresh bool) (Result, error) {
	companies, listedAt, err := s.companies(ctx, tenantID, connID, fresh)
	if err != nil {
		return Result{}, err
	}
	orgs, err := s.Organizations(ctx, tenantID)
	if err != nil {
		return Result{}, err
	}
	ms, err := s.st.ListOrgMappings(ctx, connID)
	if err != nil {
		return Result{}, errorf(broker.CodeInternal, err, "mappings cannot be listed")
	}
	res := Compute(companies, orgs, ms, s.opts.Threshold)
	res.CompaniesListedAt = listedAt.UTC()
	return res, nil
}

// companies returns the connection's companies, from the cache unless
// fresh is set, and when they were listed. The connection is looked up
// for the tenant first, on every call, so that another tenant's
// connection is not found whatever is cached (SEC-43); a connection that
// is not active is listed now, so that the caller gets the broker's error
// (needs_reauth, revoked) rather than an old list.
func (s *Service) companies(ctx context.Context, tenantID, connID string, fresh bool) ([]Company, time.Time, error) {
	c, err := s.b.Connection(ctx, tenantID, connID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if s.cache == nil || c.Status != store.StatusActive {
		at := s.now()
		companies, err := s.Companies(ctx, tenantID, connID)
		return companies, at, err
	}
	companies, at, err := s.cache.get(ctx, s.cacheKey(c), fresh, func(ctx context.Context) ([]Company, error) {
		return s.Companies(ctx, tenantID, connID)
	})
	if err != nil {
		// The walk's errors are already the caller's; this caller's own
		// deadline, while waiting for it, reads as Pax8 being slow.
		return nil, time.Time{}, upstream(err, "listing companies")
	}
	return companies, at, nil
}

func (s *Service) cacheKey(c store.Connection) cacheKey {
	return cacheKey{tenantID: c.TenantID, connID: c.ID, connectedAt: c.ConnectedAt.UnixNano()}
}

// Set maps companyID of the tenant's connection to orgID. The company must
// exist at Pax8 and the organisation among the tenant's.
func (s *Service) Set(ctx context.Context, tenantID, connID, companyID, orgID string) (Mapping, error) {
	if companyID == "" || orgID == "" {
		return Mapping{}, errorf(broker.CodeInvalidRequest, nil, "company id and org_id are required")
	}
	org, err := s.org(ctx, tenantID, orgID)
	if err != nil {
		return Mapping{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	cctx, pc, c, err := s.client(cctx, tenantID, connID)
	if err != nil {
		return Mapping{}, err
	}
	co, err := pc.Companies.Get(cctx, companyID)
	if errors.Is(err, pax8.ErrNotFound) || errors.Is(err, pax8.ErrBadRequest) {
		return Mapping{}, errorf(broker.CodeNotFound, err, "company %s not found at pax8", companyID)
	}
	if err != nil {
		return Mapping{}, upstream(err, "reading the company")
	}
	company := Company{ID: co.ID, Name: co.Name}
	s.checkCached(c, company)
	return s.put(ctx, tenantID, connID, company, org)
}

// checkCached drops the connection's cached company list when company, as
// just read from Pax8, is not in it as it is now: the list is behind
// (the company is new or renamed), so the next view lists it again.
// Mappings themselves are never cached, so writing one needs nothing
// else.
func (s *Service) checkCached(c store.Connection, company Company) {
	if s.cache == nil {
		return
	}
	key := s.cacheKey(c)
	if !s.cache.holds(key, company) {
		s.cache.invalidate(key)
	}
}

func (s *Service) org(ctx context.Context, tenantID, orgID string) (Organization, error) {
	orgs, err := s.Organizations(ctx, tenantID)
	if err != nil {
		return Organization{}, err
	}
	for _, o := range orgs {
		if o.ID == orgID {
			return o, nil
		}
	}
	return Organization{}, errorf(broker.CodeNotFound, nil, "organization %s not found; upload it with PUT /v1/organizations", orgID)
}

func (s *Service) put(ctx context.Context, tenantID, connID string, co Company, org Organization) (Mapping, error) {
	m := store.OrgMapping{TenantID: tenantID, ConnectionID: connID, ExternalID: co.ID,
		ExternalName: co.Name, OrgID: org.ID, UpdatedAt: s.now().UTC()}
	if err := s.st.PutOrgMapping(ctx, m); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Mapping{}, errorf(broker.CodeNotFound, err, "connection %s not found", connID)
		}
		return Mapping{}, errorf(broker.CodeInternal, err, "mapping cannot be stored")
	}
	return Mapping{CompanyID: co.ID, CompanyName: co.Name, OrgID: org.ID, OrgName: org.Name,
		UpdatedAt: m.UpdatedAt.Truncate(time.Microsecond)}, nil
}

// Delete removes the mapping of companyID on the tenant's connection.
func (s *Service) Delete(ctx context.Context, tenantID, connID, companyID string) error {
	if _, err := s.b.Connection(ctx, tenantID, connID); err != nil {
		return err
	}
	if err := s.st.DeleteOrgMapping(ctx, connID, companyID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(broker.CodeNotFound, err, "company %s is not mapped", companyID)
		}
		return errorf(broker.CodeInternal, err, "mapping cannot be deleted")
	}
	return nil
}

// AcceptSuggestions stores the current suggestions of the tenant's
// connection as mappings: all of them when companyIDs is empty, else only
// those of the companies listed. It returns the mappings it made.
func (s *Service) AcceptSuggestions(ctx context.Context, tenantID, connID string, companyIDs ...string) ([]Mapping, error) {
	res, err := s.Get(ctx, tenantID, connID)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(companyIDs))
	for _, id := range companyIDs {
		want[id] = true
	}
	out := []Mapping{}
	for _, sg := range res.Suggestions {
		if len(want) > 0 && !want[sg.CompanyID] {
			continue
		}
		m, err := s.put(ctx, tenantID, connID, Company{ID: sg.CompanyID, Name: sg.CompanyName},
			Organization{ID: sg.OrgID, Name: sg.OrgName})
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Link is a mapping page URL, shown once: only its hash is stored.
type Link struct {
	ID        string
	URL       string
	ExpiresAt time.Time
}

// PagePath is where the mapping page is served; a link is PagePath plus
// its token.
const PagePath = "/mappings/"

// CreateLink creates a mapping page link for the tenant's connection.
func (s *Service) CreateLink(ctx context.Context, tenantID, connID string) (Link, error) {
	if _, err := s.b.Connection(ctx, tenantID, connID); err != nil {
		return Link{}, err
	}
	token := oauthx.RandomToken(32)
	now := s.now().UTC()
	l := store.MappingLink{
		ID:           "mlk_" + strings.ToLower(rand.Text()[:20]),
		TokenHash:    hashToken(token),
		TenantID:     tenantID,
		ConnectionID: connID,
		ExpiresAt:    now.Add(s.opts.LinkTTL),
		CreatedAt:    now,
	}
	if err := s.st.CreateMappingLink(ctx, l); err != nil {
		return Link{}, errorf(broker.CodeInternal, err, "mapping link cannot be stored")
	}
	return Link{ID: l.ID, URL: s.opts.PublicURL + PagePath + token, ExpiresAt: l.ExpiresAt}, nil
}

// ResolveLink returns the link for a page token, or a not_found or
// link_expired error.
func (s *Service) ResolveLink(ctx context.Context, token string) (store.MappingLink, error) {
	if token == "" {
		return store.MappingLink{}, errorf(broker.CodeNotFound, nil, "this mapping link is not valid")
	}
	l, err := s.st.GetMappingLinkByTokenHash(ctx, hashToken(token))
	if err != nil {
		return store.MappingLink{}, errorf(broker.CodeNotFound, err, "this mapping link is not valid")
	}
	if !s.now().Before(l.ExpiresAt) {
		return store.MappingLink{}, errorf(broker.CodeLinkExpired, nil, "this mapping link has expired; ask for a new one")
	}
	return l, nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
