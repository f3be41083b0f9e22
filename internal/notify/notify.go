package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/store"
)

// Types lists the event types grantd emits: the values of a payload's
// "type" and of the Grantd-Event header.
var Types = []string{"connected", "reauthorized", "refreshed", "refresh_rejected", "refresh_malformed", "needs_reauth",
	"reauth_due", "revoked", "revocation_failed", "deleted"}

// Payload is the JSON body of a delivery. It describes what happened to a
// connection and never carries a token.
//
// Type is the event kind; a receiver tells a first connect ("connected")
// from a reauthorization by it (a "reauthorized" kind, where the broker
// emits one). IntegrationID and Provider name the connection's
// integration and provider (empty for events recorded before they were).
// Connections carry no tags yet, so a payload has none.
type Payload struct {
	// ID identifies the event; retries and other endpoints see the same.
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	CreatedAt     time.Time `json:"created_at"`
	TenantID      string    `json:"tenant_id"`
	ConnectionID  string    `json:"connection_id"`
	IntegrationID string    `json:"integration_id"`
	Provider      string    `json:"provider"`
	Detail        string    `json:"detail"`
	// EndUser and Tags are the connection's, as the application named
	// them in its connect session; omitted when it named none.
	EndUser *EndUser `json:"end_user,omitempty"`
	Tags    []string `json:"tags,omitempty"`
}

// EndUser is the application's user a connection is for.
type EndUser struct {
	ID          string `json:"id,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

// Endpoint is one webhook receiver. Its String and LogValue methods show
// the URL without query and never the secret.
type Endpoint struct {
	// URL receives the POSTs.
	URL string
	// Secret is the HMAC-SHA256 key of the Grantd-Signature header.
	Secret string
	// Events are the types delivered to this endpoint; empty means all.
	Events []string
}

// String returns the endpoint's URL without query or secret.
func (e Endpoint) String() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return "webhook (invalid URL)"
	}
	u.RawQuery, u.ForceQuery, u.User, u.Fragment = "", false, nil, ""
	return u.String()
}

// LogValue implements [slog.LogValuer].
func (e Endpoint) LogValue() slog.Value { return slog.StringValue(e.String()) }

func (e Endpoint) wants(typ string) bool { return len(e.Events) == 0 || slices.Contains(e.Events, typ) }

// endpointKeys returns the outbox key of each endpoint: a hash of its URL
// (so neither the secret nor a token in the query is stored), with "#n"
// added to the n-th repeat of one URL. It stays the same across restarts
// and replicas as long as the URL does, and a rotated secret keeps it.
func endpointKeys(eps []Endpoint) []string {
	keys := make([]string, len(eps))
	seen := map[string]int{}
	for i, e := range eps {
		sum := sha256.Sum256([]byte(e.URL))
		k := "url-sha256:" + hex.EncodeToString(sum[:16])
		seen[k]++
		if n := seen[k]; n > 1 {
			k += "#" + strconv.Itoa(n)
		}
		keys[i] = k
	}
	return keys
}

// Options configures a [Sender]. Endpoints and Store matter; the rest
// have defaults.
type Options struct {
	Endpoints []Endpoint
	// Store holds the outbox (required). Every replica's Sender shares
	// the one database.
	Store store.Store
	// HTTPClient posts the deliveries. The default has a 10 s timeout and
	// follows no redirects; a client given here should do the same.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now stamps the signatures and dates everything in the outbox: due
	// times, claims and their leases, retention (default time.Now).
	Now func() time.Time
	// Registerer receives the metrics (none when nil).
	Registerer prometheus.Registerer
	// Owner names this Sender in its claims (default a random name). Two
	// running Senders must not share one.
	Owner string
	// RetryFor is how long a delivery is retried, from when it was
	// enqueued (default 72 h, as Stripe's webhooks: a receiver may be down
	// for a weekend and lose nothing). The last retry is made at the end
	// of the window; after it fails, the delivery is failed, and can be
	// redelivered by hand (POST /v1/webhook-deliveries/{id}/redeliver).
	RetryFor time.Duration
	// MaxAttempts, when positive, also bounds the attempts per delivery;
	// 0 (the default) leaves the bound to RetryFor.
	MaxAttempts int
	// Backoff is the delay before the first retry, doubled for each next
	// one (default 30 s).
	Backoff time.Duration
	// MaxDelay caps a retry's delay, including one asked by Retry-After
	// (default 6 h). With the defaults a delivery is tried about 20 times
	// over the three days.
	MaxDelay time.Duration
	// Jitter is the random fraction taken off each retry's delay, in
	// [0, 1], so that the deliveries of an outage do not all retry at once
	// (default 0.3; negative for none). See [retry.Backoff].
	Jitter float64
	// Workers is the number of concurrent deliveries, and so the most
	// deliveries claimed at once (default 4).
	Workers int
	// PollInterval is how often Run looks for deliveries that fell due
	// without this Sender knowing: enqueued by another replica, or left by
	// one that died (default 1 s). What this Sender enqueues or schedules
	// goes out without waiting for a poll.
	PollInterval time.Duration
	// LeaseTTL is how long a claim lasts (default 1 min); each attempt is
	// cut off at half of it, so a claim never lapses while its POST is in
	// flight. A claim whose Sender died is taken over once it lapses.
	LeaseTTL time.Duration
	// EnqueueTimeout bounds the outbox write of Notify (default 2 s).
	EnqueueTimeout time.Duration
	// Retention is how long delivered and failed deliveries are kept
	// (default 7 days). It must exceed the retry schedule: a pending
	// delivery older than Retention is pruned too.
	Retention time.Duration
	// DrainTimeout bounds the last round of attempts that Run makes when
	// it stops (default 5 s).
	DrainTimeout time.Duration
}

// storeTimeout bounds the outbox writes of Run (claims, outcomes, pruning).
const storeTimeout = 10 * time.Second

// pruneEvery is how often Run prunes the outbox.
const pruneEvery = time.Hour

// Sender delivers events to webhooks through a durable outbox. Create it
// with [New], feed it with [Sender.Notify], run it with [Sender.Run] and
// release it with [Sender.Close]; the caller closes the Store afterwards.
// It is safe for concurrent use.
type Sender struct {
	opts  Options
	st    store.Store
	hc    *http.Client
	log   *slog.Logger
	m     *metrics
	now   func() time.Time
	keys  []string             // outbox key of each endpoint
	byKey map[string]*Endpoint // endpoint of each key
	// firstSeen is when each endpoint was first configured, read once by
	// Run's first reconciliation (only Run uses it).
	firstSeen map[string]time.Time

	mu      sync.Mutex
	closed  bool
	nextDue time.Time // the earliest retry this Sender scheduled
	wake    chan struct{}
}

// New returns a Sender for opts. It checks that there is a store and that
// every endpoint has a URL and a secret; [config.Config.Validate] does the
// rest.
func New(opts Options) (*Sender, error) {
	var errs []error
	if opts.Store == nil {
		errs = append(errs, errors.New("notify: no store for the outbox"))
	}
	for i, e := range opts.Endpoints {
		if e.URL == "" {
			errs = append(errs, fmt.Errorf("notify: endpoint %d has no URL", i))
		} else if _, err := url.Parse(e.URL); err != nil {
			errs = append(errs, fmt.Errorf("notify: endpoint %d: URL does not parse", i))
		}
		if e.Secret == "" {
			errs = append(errs, fmt.Errorf("notify: endpoint %d (%s) has no secret", i, e))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	opts.Endpoints = slices.Clone(opts.Endpoints)
	if opts.HTTPClient == nil {
		opts.HTTPClient = DefaultHTTPClient()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner = "notify-" + rand.Text()[:12]
	}
	setDefault(&opts.RetryFor, 72*time.Hour)
	setDefault(&opts.Workers, 4)
	setDefault(&opts.Backoff, 30*time.Second)
	setDefault(&opts.MaxDelay, 6*time.Hour)
	switch {
	case opts.Jitter == 0:
		opts.Jitter = 0.3
	case opts.Jitter < 0:
		opts.Jitter = 0
	}
	setDefault(&opts.PollInterval, time.Second)
	setDefault(&opts.LeaseTTL, time.Minute)
	setDefault(&opts.EnqueueTimeout, 2*time.Second)
	setDefault(&opts.Retention, 7*24*time.Hour)
	if opts.Retention <= opts.RetryFor {
		return nil, fmt.Errorf("notify: retention %s must exceed the retry window %s, or pending deliveries are pruned", opts.Retention, opts.RetryFor)
	}
	setDefault(&opts.DrainTimeout, 5*time.Second)
	s := &Sender{
		opts:  opts,
		st:    opts.Store,
		hc:    opts.HTTPClient,
		log:   opts.Logger,
		now:   opts.Now,
		keys:  endpointKeys(opts.Endpoints),
		byKey: map[string]*Endpoint{},
		wake:  make(chan struct{}, 1),
	}
	for i, k := range s.keys {
		s.byKey[k] = &s.opts.Endpoints[i]
	}
	s.m = newMetrics(opts.Registerer, func() float64 { return float64(s.Len()) })
	return s, nil
}

// DefaultHTTPClient returns the client used for deliveries: a 10 s timeout
// and no redirects followed (a 3xx answer fails the delivery).
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Notify writes one delivery of e per endpoint subscribed to its type to
// the outbox, in one transaction bounded by EnqueueTimeout, and wakes Run;
// it is what the broker's OnEvent calls. From then on the deliveries
// survive a crash or restart. When the write fails (the database is down
// or too slow) or the Sender is closed, the deliveries are counted as
// dropped and logged; a stored event's deliveries are written again by the
// next reconciliation of any replica (see reconcile).
func (s *Sender) Notify(e store.Event) {
	ds, evt := s.deliveries(e, s.now().UTC(), nil)
	if len(ds) == 0 {
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	var err error
	if closed {
		err = errors.New("sender closed")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.EnqueueTimeout)
		_, err = s.st.EnqueueDeliveries(ctx, ds)
		cancel()
	}
	if err != nil {
		for _, d := range ds {
			s.m.outcome(d.EventType, "dropped")
			s.log.Error("webhook delivery dropped: not written to the outbox", "delivery_id", d.ID,
				"event", d.EventType, "event_id", evt, "endpoint", s.byKey[d.Endpoint], "err", err)
		}
		return
	}
	s.signal()
}

// deliveries returns one delivery of e per endpoint subscribed to its type
// (for which keep, when not nil, is true), and e's payload id. For a
// stored event (a non-zero ID) both the payload and the delivery ids are
// derived from the event and the endpoint, so writing them again — the
// reconciliation after a crash between the event and the outbox — adds
// nothing twice. The payload's time is cut to microseconds, as stored.
func (s *Sender) deliveries(e store.Event, now time.Time, keep func(key string) bool) ([]store.Delivery, string) {
	var (
		ds   []store.Delivery
		body []byte
		evt  string
	)
	for i := range s.opts.Endpoints {
		if !s.opts.Endpoints[i].wants(e.Kind) || (keep != nil && !keep(s.keys[i])) {
			continue
		}
		if body == nil {
			evt = "evt_" + rand.Text()
			if e.ID != 0 {
				evt = "evt_" + strconv.FormatInt(e.ID, 10)
			}
			var err error
			p := Payload{
				ID:            evt,
				Type:          e.Kind,
				CreatedAt:     e.CreatedAt.UTC().Truncate(time.Microsecond),
				TenantID:      e.TenantID,
				ConnectionID:  e.ConnectionID,
				IntegrationID: e.IntegrationID,
				Provider:      e.Provider,
				Detail:        e.Detail,
				Tags:          e.Tags,
			}
			if e.EndUser != (store.EndUser{}) {
				p.EndUser = &EndUser{ID: e.EndUser.ID, Email: e.EndUser.Email, DisplayName: e.EndUser.DisplayName}
			}
			body, err = json.Marshal(p)
			if err != nil {
				// A struct of strings and a time always marshals.
				panic(err)
			}
		}
		id := "dlv_" + rand.Text()
		if e.ID != 0 {
			sum := sha256.Sum256([]byte(evt + "\x00" + s.keys[i]))
			id = "dlv_" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16])
		}
		ds = append(ds, store.Delivery{ID: id, TenantID: e.TenantID, Endpoint: s.keys[i], EventID: evt,
			EventType: e.Kind, Payload: body, CreatedAt: now, NextAttemptAt: now})
	}
	return ds, evt
}

func (s *Sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Len returns the number of deliveries pending in the outbox, retries
// included, for every endpoint and replica; 0 when the store cannot say.
func (s *Sender) Len() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.st.CountDeliveries(ctx, store.DeliveryPending)
	if err != nil {
		s.log.Warn("count pending webhook deliveries", "err", err)
		return 0
	}
	return n
}

// Close stops accepting events (Notify then drops them) and releases idle
// connections. Call it after Run has returned and before closing the
// Store. It returns nil.
func (s *Sender) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.hc.CloseIdleConnections()
	return nil
}
