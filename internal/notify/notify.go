package notify

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/store"
)

// Types lists the event types grantd emits: the values of a payload's
// "type" and of the Grantd-Event header.
var Types = []string{"connected", "refreshed", "refresh_rejected", "needs_reauth", "reauth_due", "deleted"}

// Payload is the JSON body of a delivery. It describes what happened to a
// connection and never carries a token.
type Payload struct {
	// ID identifies the event; retries and other endpoints see the same.
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	CreatedAt    time.Time `json:"created_at"`
	TenantID     string    `json:"tenant_id"`
	ConnectionID string    `json:"connection_id"`
	Detail       string    `json:"detail"`
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

// Options configures a [Sender]. Only Endpoints matters; the rest have
// defaults.
type Options struct {
	Endpoints []Endpoint
	// HTTPClient posts the deliveries. The default has a 10 s timeout and
	// follows no redirects; a client given here should do the same.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now stamps the signatures (default time.Now).
	Now func() time.Time
	// Registerer receives the metrics (none when nil).
	Registerer prometheus.Registerer
	// QueueSize bounds the deliveries waiting, retries included (default
	// 1000).
	QueueSize int
	// MaxAttempts bounds the attempts per delivery (default 5).
	MaxAttempts int
	// Backoff is the delay before the first retry, doubled for each next
	// one (default 1 s).
	Backoff time.Duration
	// MaxDelay caps a retry's delay, including one asked by Retry-After
	// (default 10 min).
	MaxDelay time.Duration
	// Workers is the number of concurrent deliveries (default 4).
	Workers int
	// DrainTimeout bounds the last attempt made, when Run stops, for the
	// deliveries still queued (default 5 s).
	DrainTimeout time.Duration
}

// Sender delivers events to webhooks in the background. Create it with
// [New], feed it with [Sender.Notify], run it with [Sender.Run] and release
// it with [Sender.Close]. It is safe for concurrent use.
type Sender struct {
	opts Options
	hc   *http.Client
	log  *slog.Logger
	m    *metrics

	mu     sync.Mutex
	queue  []*delivery // waiting deliveries, oldest first, retries included
	closed bool
	wake   chan struct{}
}

// delivery is one event on its way to one endpoint.
type delivery struct {
	id       string
	endpoint *Endpoint
	typ      string
	body     []byte
	attempts int
	due      time.Time // not before (wall clock)
}

// New returns a Sender for opts. It checks that every endpoint has a URL
// and a secret; [config.Config.Validate] does the rest.
func New(opts Options) (*Sender, error) {
	var errs []error
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
	setDefault(&opts.QueueSize, 1000)
	setDefault(&opts.MaxAttempts, 5)
	setDefault(&opts.Workers, 4)
	setDefault(&opts.Backoff, time.Second)
	setDefault(&opts.MaxDelay, 10*time.Minute)
	setDefault(&opts.DrainTimeout, 5*time.Second)
	return &Sender{
		opts: opts,
		hc:   opts.HTTPClient,
		log:  opts.Logger,
		m:    newMetrics(opts.Registerer),
		wake: make(chan struct{}, 1),
	}, nil
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

// Notify queues e for every endpoint subscribed to its type and returns at
// once; it is what the broker's OnEvent calls. When the queue is full the
// oldest waiting delivery is dropped, with a warning and a metric. After
// Close it drops e.
func (s *Sender) Notify(e store.Event) {
	var body []byte
	for i := range s.opts.Endpoints {
		ep := &s.opts.Endpoints[i]
		if !ep.wants(e.Kind) {
			continue
		}
		if body == nil {
			var err error
			body, err = json.Marshal(Payload{
				ID:           "evt_" + rand.Text(),
				Type:         e.Kind,
				CreatedAt:    e.CreatedAt.UTC(),
				TenantID:     e.TenantID,
				ConnectionID: e.ConnectionID,
				Detail:       e.Detail,
			})
			if err != nil {
				// A struct of strings and a time always marshals.
				panic(err)
			}
		}
		s.enqueue(&delivery{id: "dlv_" + rand.Text(), endpoint: ep, typ: e.Kind, body: body, due: time.Now()})
	}
}

// enqueue adds d, dropping the oldest waiting delivery when the queue is
// full.
func (s *Sender) enqueue(d *delivery) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.m.outcome(d.typ, "dropped")
		s.log.Warn("webhook delivery dropped: sender closed", "delivery_id", d.id, "event", d.typ, "endpoint", d.endpoint)
		return
	}
	var dropped *delivery
	if len(s.queue) >= s.opts.QueueSize {
		dropped = s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	s.queue = append(s.queue, d)
	s.m.queued.Set(float64(len(s.queue)))
	s.mu.Unlock()
	if dropped != nil {
		s.m.outcome(dropped.typ, "dropped")
		s.log.Warn("webhook queue full: oldest delivery dropped", "delivery_id", dropped.id, "event", dropped.typ,
			"endpoint", dropped.endpoint, "queue_size", s.opts.QueueSize)
	}
	s.signal()
}

func (s *Sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next removes and returns the first delivery due at now, or returns how
// long until one is (0 when none waits).
func (s *Sender) next(now time.Time) (*delivery, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wait time.Duration
	for i, d := range s.queue {
		if left := d.due.Sub(now); left > 0 {
			if wait == 0 || left < wait {
				wait = left
			}
			continue
		}
		s.queue = slices.Delete(s.queue, i, i+1)
		s.m.queued.Set(float64(len(s.queue)))
		if len(s.queue) > 0 {
			s.signal() // let another worker look at the rest
		}
		return d, 0
	}
	return nil, wait
}

// Len returns the number of deliveries waiting, retries included.
func (s *Sender) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Run delivers queued events until ctx is done. Attempts in flight then
// finish (each bounded by the client's timeout), and every delivery still
// queued gets one last attempt within DrainTimeout; those that fail are
// logged and counted as abandoned. Run returns nil. Call it once.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() { s.work(ctx) })
	}
	wg.Wait()
	s.drain(context.WithoutCancel(ctx))
	return nil
}

func (s *Sender) work(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			return
		}
		d, wait := s.next(time.Now())
		if d != nil {
			s.deliver(context.WithoutCancel(ctx), d, true)
			continue
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// drain makes one last attempt for each queued delivery.
func (s *Sender) drain(ctx context.Context) {
	s.mu.Lock()
	left := s.queue
	s.queue = nil
	s.m.queued.Set(0)
	s.mu.Unlock()
	if len(left) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.DrainTimeout)
	defer cancel()
	undelivered := 0
	for _, d := range left {
		if ctx.Err() != nil {
			s.m.outcome(d.typ, "abandoned")
			undelivered++
			continue
		}
		if !s.deliver(ctx, d, false) {
			undelivered++
		}
	}
	if undelivered > 0 {
		s.log.Warn("webhook deliveries not delivered before shutdown", "count", undelivered)
	}
}

// Close stops accepting events (Notify then drops them) and releases idle
// connections. Call it after Run has returned. It returns nil.
func (s *Sender) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.hc.CloseIdleConnections()
	return nil
}
