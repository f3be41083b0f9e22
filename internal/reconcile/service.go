package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// Options configures a [Service]. Broker, Store and Transport are
// required.
type Options struct {
	Broker *broker.Broker
	Store  store.Store
	// Transport authorises the Pax8 requests: an [*upstream.Transport],
	// which takes the token from the broker for the connection named in
	// each request's context and retries once after a 401.
	Transport http.RoundTripper
	// CacheTTL is how long a connection's walk of a period is reused
	// (default [DefaultCacheTTL]; negative: walk on every report).
	CacheTTL time.Duration
	// CacheSize bounds the connection × period walks kept (default 100).
	CacheSize int
	// Concurrency bounds the Pax8 pages fetched at once (default 4).
	Concurrency int
	// Timeout bounds one walk (default 5 min).
	Timeout time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// DefaultCacheTTL is how long a walk is reused by default: a report, its
// page and its downloads within five minutes cost Pax8 one walk.
const DefaultCacheTTL = 5 * time.Minute

// Service reconciles tenants' Pax8 connections with what they bill. It is
// safe for concurrent use.
type Service struct {
	opts  Options
	b     *broker.Broker
	st    store.Store
	hc    *http.Client
	log   *slog.Logger
	now   func() time.Time
	cache *snapCache
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	var errs []error
	if opts.Broker == nil {
		errs = append(errs, errors.New("reconcile: Broker is required"))
	}
	if opts.Store == nil {
		errs = append(errs, errors.New("reconcile: Store is required"))
	}
	if opts.Transport == nil {
		errs = append(errs, errors.New("reconcile: Transport is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 100
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, b: opts.Broker, st: opts.Store, hc: &http.Client{Transport: opts.Transport},
		log: opts.Logger, now: opts.Now}
	if opts.CacheTTL > 0 {
		s.cache = newSnapCache(opts.CacheTTL, opts.CacheSize, opts.Timeout, opts.Now)
	}
	return s, nil
}

func errorf(code broker.Code, cause error, format string, args ...any) error {
	return &broker.Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// problemsError turns upload problems into the API's 400 with one detail
// per problem.
func problemsError(ps Problems) error {
	e := &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest,
		Message: fmt.Sprintf("the billing upload has %d problem(s); nothing was stored", len(ps))}
	for _, p := range ps {
		field := fmt.Sprintf("line %d", p.Line)
		if p.Column != "" {
			field += ": " + p.Column
		}
		e.Details = append(e.Details, httpapi.Detail{Field: field, Reason: p.Reason, Message: p.Message})
	}
	return e
}

// PutBilling stores what the tenant bills for period, replacing what was
// stored. Lines naming an organisation the tenant does not have are
// refused, all of them at once, and nothing is stored.
func (s *Service) PutBilling(ctx context.Context, tenantID string, period Period, lines []BillingLine) error {
	orgs, err := s.st.ListOrganizations(ctx, tenantID)
	if err != nil {
		return errorf(broker.CodeInternal, err, "organizations cannot be listed")
	}
	known := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		known[o.ID] = true
	}
	if ps := CheckOrganizations(lines, known); len(ps) > 0 {
		return problemsError(ps)
	}
	rows := make([]store.BillingLine, len(lines))
	for i, l := range lines {
		rows[i] = store.BillingLine{Line: l.Line, OrgID: l.OrgID, Product: l.Product,
			Quantity: l.Quantity.String(), UnitPrice: l.UnitPrice.String()}
		if rows[i].Line == 0 {
			rows[i].Line = i + 1
		}
	}
	if err := s.st.PutBilling(ctx, tenantID, period.String(), rows); err != nil {
		return errorf(broker.CodeInternal, err, "billing cannot be stored")
	}
	return nil
}

// Billing returns what the tenant bills for period.
func (s *Service) Billing(ctx context.Context, tenantID string, period Period) ([]BillingLine, error) {
	rows, err := s.st.ListBilling(ctx, tenantID, period.String())
	if err != nil {
		return nil, errorf(broker.CodeInternal, err, "billing cannot be listed")
	}
	out := make([]BillingLine, 0, len(rows))
	for _, r := range rows {
		q, err1 := pax8.ParseAmount(r.Quantity)
		p, err2 := pax8.ParseAmount(r.UnitPrice)
		if err := errors.Join(err1, err2); err != nil {
			return nil, errorf(broker.CodeInternal, err, "stored billing line %d cannot be read", r.Line)
		}
		out = append(out, BillingLine{Line: r.Line, OrgID: r.OrgID, Product: r.Product, Quantity: q, UnitPrice: p})
	}
	return out, nil
}

// connection returns the tenant's connection, refusing one that cannot
// reach Pax8 with the step that would fix it.
func (s *Service) connection(ctx context.Context, tenantID, connID string) (store.Connection, error) {
	c, err := s.b.Connection(ctx, tenantID, connID)
	if err != nil {
		return store.Connection{}, err
	}
	if c.Status == store.StatusNeedsReauth {
		return store.Connection{}, needsReauth(connID)
	}
	return c, nil
}

// needsReauth is the 409 a reconciliation of a connection that must be
// authorised again answers with: the next step is a connect session for
// the same connection.
func needsReauth(connID string) error {
	return &httpapi.Error{Status: http.StatusConflict, Code: httpapi.CodeNeedsReauth,
		Message: fmt.Sprintf("connection %s needs reauthorization before it can be reconciled: "+
			"create a connect session with connection_id %q (POST /v1/connect-sessions), send the user to its url, then reconcile again", connID, connID),
		Details: []httpapi.Detail{{Field: "connection_id", Reason: "next_step",
			Message: fmt.Sprintf(`POST /v1/connect-sessions {"connection_id": %q}`, connID)}}}
}

// Snapshot returns Pax8's data for the connection and period, from the
// cache when a walk started less than CacheTTL ago. progress, if set,
// follows a walk this call starts.
func (s *Service) Snapshot(ctx context.Context, tenantID, connID string, period Period, progress func(string, int)) (*Snapshot, error) {
	c, err := s.connection(ctx, tenantID, connID)
	if err != nil {
		return nil, err
	}
	p, ok := s.b.Providers().Get(c.Provider)
	if !ok || p.API.BaseURL == "" {
		return nil, errorf(broker.CodeInvalidRequest, nil, "connection %s has no API to reconcile", connID)
	}
	walk := func(ctx context.Context) (*Snapshot, error) {
		pc := pax8.NewClient(s.hc, pax8.WithBaseURL(p.API.BaseURL), pax8.WithConcurrency(s.opts.Concurrency), pax8.WithLogger(s.log))
		return Walk(upstream.WithConnection(ctx, tenantID, connID), pc, period, progress)
	}
	var snap *Snapshot
	if s.cache == nil {
		ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
		snap, err = walk(ctx)
	} else {
		key := snapKey{tenantID: tenantID, connID: connID, connectedAt: c.ConnectedAt.UnixNano(), period: period}
		snap, _, err = s.cache.get(ctx, key, walk)
	}
	if err != nil {
		return nil, upstreamError(err, connID)
	}
	return snap, nil
}

// upstreamError turns a walk's error into what the caller sees.
func upstreamError(err error, connID string) error {
	if be, ok := errors.AsType[*broker.Error](err); ok {
		if be.Code == broker.CodeNeedsReauth {
			return needsReauth(connID)
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errorf(broker.CodeUpstreamDown, err, "pax8 did not answer in time during the reconciliation")
	}
	return errorf(broker.CodeUpstream, err, "pax8 failed during the reconciliation")
}

// Input gathers what the tenant has told grantd for the connection and
// period: org mappings, product mappings and billing.
func (s *Service) Input(ctx context.Context, tenantID, connID string, period Period) (Input, error) {
	in := Input{Period: period, Companies: map[string]string{}, Products: map[string]string{}}
	oms, err := s.st.ListOrgMappings(ctx, connID)
	if err != nil {
		return Input{}, errorf(broker.CodeInternal, err, "org mappings cannot be listed")
	}
	for _, m := range oms {
		in.Companies[m.ExternalID] = m.OrgID
	}
	pms, err := s.st.ListProductMappings(ctx, connID)
	if err != nil {
		return Input{}, errorf(broker.CodeInternal, err, "product mappings cannot be listed")
	}
	for _, m := range pms {
		in.Products[m.ProductKey] = m.ExternalID
	}
	if in.Billing, err = s.Billing(ctx, tenantID, period); err != nil {
		return Input{}, err
	}
	return in, nil
}

// Reconcile reconciles the tenant's connection for period. Repeated calls
// within CacheTTL reuse one walk of Pax8; mappings and billing are read
// now.
func (s *Service) Reconcile(ctx context.Context, tenantID, connID string, period Period, progress func(string, int)) (*Report, error) {
	snap, err := s.Snapshot(ctx, tenantID, connID, period, progress)
	if err != nil {
		return nil, err
	}
	in, err := s.Input(ctx, tenantID, connID, period)
	if err != nil {
		return nil, err
	}
	return Compare(snap, in), nil
}
