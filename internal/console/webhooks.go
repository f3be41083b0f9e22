package console

import (
	"errors"
	"net/http"

	"github.com/grantd/grantd/internal/store"
)

type webhooksData struct {
	State   string
	Rows    []store.Delivery
	Pending int
	Notice  string
}

// webhooks lists the newest webhook deliveries (operator only: a delivery
// carries no tenant) with their attempts and last error, and a redeliver
// button on the finished ones.
func (c *Console) webhooks(w http.ResponseWriter, r *http.Request, v viewer) error {
	if !v.Admin {
		return errAdminOnly
	}
	d := webhooksData{State: r.URL.Query().Get("state")}
	switch store.DeliveryState(d.State) {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return badInput("State must be pending, delivered or failed.")
	}
	var err error
	if d.Rows, err = c.opts.Store.ListDeliveries(r.Context(), store.DeliveryFilter{AllTenants: true, State: store.DeliveryState(d.State), Limit: 100}); err != nil {
		return err
	}
	if d.Pending, err = c.opts.Store.CountDeliveries(r.Context(), store.DeliveryPending); err != nil {
		return err
	}
	if r.URL.Query().Get("notice") == "redelivered" {
		d.Notice = "The delivery is queued again."
	}
	c.render(w, r, http.StatusOK, "webhooks", v, "Webhooks", d)
	return nil
}

// redeliver puts a finished delivery back in the outbox.
func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, v viewer) error {
	if !v.Admin {
		return errAdminOnly
	}
	if _, err := c.opts.Store.RedeliverDelivery(r.Context(), r.PathValue("id"), c.now()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &pageError{Status: http.StatusConflict, Message: "This delivery is still pending: it will be sent without a redelivery.", Err: err}
		}
		return err
	}
	http.Redirect(w, r, "/console/webhooks?notice=redelivered", http.StatusSeeOther)
	return nil
}
