package notify

import (
	"context"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// The broker stores an event, then calls Notify, which writes its
// deliveries: two writes, and a crash between them would leave the event in
// the connection's history without its webhooks. Reconciliation closes that
// window. Deliveries of a stored event have ids derived from the event and
// the endpoint, so Run writes the deliveries of recent events again, at
// start over the last day and then every reconcileEvery over the last
// three periods, and the outbox keeps only the first copy of each.
const (
	reconcileEvery = 10 * time.Minute
	reconcileStart = 24 * time.Hour
	reconcilePage  = 500
)

// metaEndpointSince is the meta key prefix recording when an endpoint
// (by outbox key) was first seen, so that a webhook added to the config
// is not sent the events from before it existed.
const metaEndpointSince = "webhook_endpoint_since/"

// reconcile writes the missing deliveries of the events created since
// since, and logs how many it added: each one is a webhook that would
// have been lost.
func (s *Sender) reconcile(ctx context.Context, since time.Time) {
	if len(s.keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	first, err := s.endpointsSince(ctx)
	if err != nil {
		s.log.Warn("reconcile webhook deliveries", "err", err)
		return
	}
	keep := func(e store.Event) func(string) bool {
		return func(key string) bool { return !e.CreatedAt.Before(first[key]) }
	}
	now := s.now().UTC()
	added := 0
	var after int64
	for {
		es, err := s.st.EventsSince(ctx, since, after, reconcilePage)
		if err != nil {
			s.log.Warn("reconcile webhook deliveries", "err", err)
			return
		}
		var ds []store.Delivery
		for _, e := range es {
			d, _ := s.deliveries(e, now, keep(e))
			ds = append(ds, d...)
		}
		n, err := s.st.EnqueueDeliveries(ctx, ds)
		if err != nil {
			s.log.Warn("reconcile webhook deliveries", "err", err)
			return
		}
		added += n
		if len(es) < reconcilePage {
			break
		}
		after = es[len(es)-1].ID
	}
	if added > 0 {
		s.m.recovered.Add(float64(added))
		s.log.Warn("webhook deliveries recovered: events were stored without their deliveries (a crash between the two writes)", "count", added)
		s.signal()
	}
}

// endpointsSince returns when each endpoint was first seen, recording now
// for the ones seen for the first time. The answer cannot change while
// this Sender runs, so it is read once.
func (s *Sender) endpointsSince(ctx context.Context) (map[string]time.Time, error) {
	if s.firstSeen != nil {
		return s.firstSeen, nil
	}
	out := make(map[string]time.Time, len(s.keys))
	for _, k := range s.keys {
		v, err := s.st.GetMeta(ctx, metaEndpointSince+k)
		if err == nil {
			if t, perr := time.Parse(time.RFC3339Nano, v); perr == nil {
				out[k] = t
				continue
			}
		}
		now := s.now().UTC()
		if err := s.st.PutMeta(ctx, metaEndpointSince+k, now.Format(time.RFC3339Nano)); err != nil {
			return nil, err
		}
		out[k] = now
	}
	s.firstSeen = out
	return out, nil
}
