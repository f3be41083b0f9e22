package broker

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/redirect"
	"github.com/grantd/grantd/internal/store"
)

// LinkRequest asks for a connect link for one tenant.
type LinkRequest struct {
	// IntegrationID picks the integration; when empty, Provider picks the
	// tenant's default integration for that provider, else the operator's.
	IntegrationID string
	Provider      string
	// ReturnTo is where the user goes after connecting; it must match the
	// allow-list (SEC-09). Empty shows grantd's success page.
	ReturnTo string
	// ConnectionID reauthorizes an existing connection of the tenant; the
	// consent must then come back with the connection's vendor account
	// (its id_token sub) unless AllowAccountChange. Without it the link
	// always creates a new connection.
	ConnectionID       string
	AllowAccountChange bool
	// EndUser and Tags are the application's names for the user and the
	// connection; they are stored on the connection and sent in webhooks.
	// See [CheckLabels] for their limits.
	EndUser store.EndUser
	Tags    []string
}

// Link is a connect page URL, shown once: only its hash is stored.
type Link struct {
	ID            string
	URL           string
	IntegrationID string
	ExpiresAt     time.Time
}

// CreateLink creates a connect link for tenantID.
func (b *Broker) CreateLink(ctx context.Context, tenantID string, req LinkRequest) (Link, error) {
	if req.IntegrationID == "" && req.Provider == "" && req.ConnectionID != "" {
		// A reauthorization needs nothing but the connection: its
		// integration is the connection's.
		c, err := b.getConnection(ctx, req.ConnectionID)
		if err != nil || c.TenantID != tenantID {
			return Link{}, errorf(CodeNotFound, err, "connection %s not found", req.ConnectionID)
		}
		req.IntegrationID = c.IntegrationID
	}
	if err := CheckLabels(req.EndUser, req.Tags); err != nil {
		return Link{}, err
	}
	in, err := b.resolveIntegration(ctx, tenantID, req.IntegrationID, req.Provider)
	if err != nil {
		return Link{}, err
	}
	// The link is for the tenant's user, so the operator acting for the
	// tenant cannot open an integration to it: its tenants list must.
	if !b.mayUse(in, tenantID, false) {
		return Link{}, errorf(CodeInvalidRequest, nil, "integration %s is not open to tenant %s; name the tenant in the integration's tenants", in.ID, tenantID)
	}
	p, err := b.provider(in.Provider)
	if err != nil {
		return Link{}, err
	}
	if p.Grant != provider.AuthorizationCode {
		return Link{}, errorf(CodeUnsupportedGrant, nil, "provider %s uses %s; connect links need authorization_code", p.Name, p.Grant)
	}
	if req.ReturnTo != "" {
		if !redirect.Allowed(req.ReturnTo, b.opts.ReturnToAllow) {
			return Link{}, errorf(CodeInvalidReturnTo, nil, "return_to is not an allowed URL")
		}
	}
	if req.ConnectionID != "" {
		c, err := b.getConnection(ctx, req.ConnectionID)
		if err != nil || c.TenantID != tenantID {
			return Link{}, errorf(CodeNotFound, err, "connection %s not found", req.ConnectionID)
		}
		if c.IntegrationID != in.ID {
			return Link{}, errorf(CodeInvalidRequest, nil, "connection %s belongs to integration %s", c.ID, c.IntegrationID)
		}
	}
	if req.AllowAccountChange && req.ConnectionID == "" {
		return Link{}, errorf(CodeInvalidRequest, nil, "allow_account_change needs a connection_id")
	}
	if err := b.checkLinkQuota(ctx, tenantID); err != nil {
		return Link{}, err
	}
	token := oauthx.RandomToken(32)
	now := b.now().UTC()
	l := store.ConnectLink{
		ID:            newID("lnk"),
		TokenHash:     hash(token),
		TenantID:      tenantID,
		IntegrationID: in.ID,
		ReturnTo:      req.ReturnTo,
		ConnectionID:  req.ConnectionID,
		ExpiresAt:     now.Add(b.opts.LinkTTL),
		CreatedAt:     now,

		AllowAccountChange: req.AllowAccountChange,
		EndUser:            req.EndUser,
		Tags:               slices.Clone(req.Tags),
	}
	if err := b.st.CreateConnectLink(ctx, l); err != nil {
		return Link{}, errorf(CodeInternal, err, "connect link cannot be stored")
	}
	return Link{ID: l.ID, URL: b.opts.PublicURL + "/connect/" + token, IntegrationID: in.ID, ExpiresAt: l.ExpiresAt}, nil
}

// LinkPage is what the connect page shows.
type LinkPage struct {
	Link        store.ConnectLink
	Integration store.Integration
	Provider    provider.Provider
	// Existing is the connection the link reauthorizes, if any; the page
	// then offers "ReAuthorize".
	Existing *store.Connection
}

// Link resolves a connect link token for the page.
func (b *Broker) Link(ctx context.Context, token string) (LinkPage, error) {
	l, err := b.st.GetConnectLinkByTokenHash(ctx, hash(token))
	if err != nil {
		return LinkPage{}, errorf(CodeNotFound, err, "this connect link is not valid")
	}
	// From here on a failure still returns the link, so the page can send
	// the user back to its return_to with the outcome.
	if !l.UsedAt.IsZero() {
		return LinkPage{Link: l}, errorf(CodeLinkUsed, nil, "this connect link was already used to connect; ask for a new one")
	}
	if !b.now().Before(l.ExpiresAt) {
		return LinkPage{Link: l}, errorf(CodeLinkExpired, nil, "this connect link has expired; ask for a new one")
	}
	in, err := b.st.GetIntegration(ctx, l.IntegrationID)
	if err != nil || !b.MayUse(ctx, in, l.TenantID) {
		return LinkPage{Link: l}, errorf(CodeNotFound, err, "the integration of this link no longer exists")
	}
	p, err := b.provider(in.Provider)
	if err != nil {
		return LinkPage{Link: l}, err
	}
	page := LinkPage{Link: l, Integration: in, Provider: p}
	// Only a link made for a connection reauthorizes it: any other link
	// creates a new connection, never replacing one it was not made for.
	if l.ConnectionID != "" {
		c, err := b.st.GetConnection(ctx, l.ConnectionID)
		if err != nil || c.TenantID != l.TenantID {
			return LinkPage{Link: l}, errorf(CodeNotFound, err, "the connection of this link no longer exists")
		}
		page.Existing = &c
	}
	return page, nil
}

// Start begins an authorization for the link token: it stores a single-use
// session bound to the browser secret (the HttpOnly cookie value the page
// sets) and returns the provider's authorization URL, built server-side
// with state, nonce, PKCE S256 and audience (SEC-01, 04, 07, 12).
func (b *Broker) Start(ctx context.Context, linkToken, browserSecret string) (string, error) {
	if len(browserSecret) < 32 {
		return "", errorf(CodeInvalidRequest, nil, "the browser binding is missing")
	}
	page, err := b.Link(ctx, linkToken)
	if err != nil {
		return "", err
	}
	in, p := page.Integration, page.Provider
	if err := b.checkDiscovery(ctx, p); err != nil {
		return "", err
	}
	state, nonce := oauthx.RandomToken(32), oauthx.RandomToken(32)
	verifier, challenge := oauthx.NewPKCE()
	now := b.now().UTC()
	s := store.ConnectSession{
		ID:            newID("cs"),
		StateHash:     hash(state),
		BrowserHash:   hash(browserSecret),
		TenantID:      page.Link.TenantID,
		IntegrationID: in.ID,
		Provider:      p.Name,
		Issuer:        p.Issuer,
		AuthorizeURL:  p.AuthorizeURL,
		TokenURL:      p.TokenURL,
		RedirectURI:   in.RedirectURI,
		Audience:      in.Audience,
		Scopes:        in.Scopes,
		ReturnTo:      page.Link.ReturnTo,
		ConnectionID:  page.Link.ConnectionID,
		ExpiresAt:     now.Add(b.opts.SessionTTL),
		CreatedAt:     now,

		LinkID:             page.Link.ID,
		AllowAccountChange: page.Link.AllowAccountChange,
		EndUser:            page.Link.EndUser,
		Tags:               page.Link.Tags,
	}
	if s.Nonce, err = b.seal("connect_session", s.ID, "nonce", nonce); err != nil {
		return "", errorf(CodeInternal, err, "the authorization cannot be started")
	}
	if s.Verifier, err = b.seal("connect_session", s.ID, "verifier", verifier); err != nil {
		return "", errorf(CodeInternal, err, "the authorization cannot be started")
	}
	if err := b.st.CreateConnectSession(ctx, s); err != nil {
		return "", errorf(CodeInternal, err, "the authorization cannot be started")
	}
	u, err := url.Parse(p.AuthorizeURL)
	if err != nil {
		return "", errorf(CodeInternal, err, "provider %s has a bad authorize URL", p.Name)
	}
	q := u.Query()
	// The provider's static parameters first, so nothing grantd sets
	// below can be overridden (config load refuses such entries anyway).
	for k, v := range p.AuthorizeParams {
		q.Set(k, v)
	}
	if p.Resource != "" {
		q.Set("resource", p.Resource) // RFC 8707 §2.1
	}
	q.Set("response_type", "code")
	q.Set("client_id", in.ClientID)
	q.Set("redirect_uri", in.RedirectURI)
	q.Set("scope", strings.Join(in.Scopes, " "))
	q.Set("state", state)
	if in.Audience != "" {
		q.Set("audience", in.Audience)
	}
	if p.OIDC {
		q.Set("nonce", nonce)
	}
	if p.PKCE {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (b *Broker) resolveIntegration(ctx context.Context, tenantID, id, providerName string) (store.Integration, error) {
	if id != "" {
		// Another tenant's integration, and an operator integration the
		// tenant may not use, are not found, just like an unknown id.
		in, err := b.st.GetIntegration(ctx, id)
		if err != nil || !b.MayUse(ctx, in, tenantID) {
			return store.Integration{}, errorf(CodeNotFound, err, "integration %s not found", id)
		}
		return in, nil
	}
	if providerName == "" {
		return store.Integration{}, errorf(CodeInvalidRequest, nil, "integration_id, provider or connection_id is required")
	}
	all, err := b.st.ListIntegrations(ctx, tenantID)
	if err != nil {
		return store.Integration{}, errorf(CodeInternal, err, "integrations cannot be listed")
	}
	var pick *store.Integration
	for i := range all {
		in := &all[i]
		if in.Provider != providerName || !b.MayUse(ctx, *in, tenantID) || rank(*in, tenantID) == 0 {
			continue
		}
		if pick == nil || rank(*in, tenantID) > rank(*pick, tenantID) {
			pick = in
		}
	}
	if pick == nil {
		return store.Integration{}, errorf(CodeNotFound, nil, "no default integration for provider %s; name integration_id or make one of the tenant's integrations default", providerName)
	}
	return *pick, nil
}

// rank orders the integrations a connect naming only a provider may use:
// the tenant's own default (2), then the operator's default (1). An
// integration that is not a default (0) is never picked by provider name,
// so one created with is_default false never takes over; it is used only
// when named by id.
func rank(in store.Integration, tenantID string) int {
	switch {
	case !in.IsDefault:
		return 0
	case in.TenantID == tenantID && tenantID != "":
		return 2
	case in.TenantID == "":
		return 1
	}
	return 0
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newID(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text()[:20])
}
