package main

import (
	"context"
	"fmt"
	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/table"
	"strconv"
)

// cmdWebhooks lists webhook deliveries (GET /v1/webhook-deliveries, every
// page unless --limit is given) or redelivers one (POST
// /v1/webhook-deliveries/{id}/redeliver). A tenant key sees its own
// tenant's deliveries; the admin key every tenant's.
func cmdWebhooks(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "deliveries" && args[0] != "redeliver") {
		return usagef("want \"webhooks deliveries [--state S] [--endpoint KEY]\" or \"webhooks redeliver ID\"")
	}
	sub := args[0]
	fs := newFlags(e, "webhooks "+sub)
	rf := addRemoteFlags(fs, e)
	var state, endpoint *string
	var limit *int
	if sub == "deliveries" {
		state = fs.String("state", "", "only deliveries in this state: pending, delivered or failed")
		endpoint = fs.String("endpoint", "", "only deliveries to this endpoint key")
		limit = fs.Int("limit", 0, "at most this many (default: all)")
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	if sub == "redeliver" {
		if len(pos) != 1 {
			return usagef("want exactly one delivery id")
		}
		d, err := c.Redeliver(ctx, pos[0])
		if err != nil {
			return err
		}
		if rf.asJSON {
			return writeJSON(e.stdout, d)
		}
		fmt.Fprintf(e.stdout, "%s is %s again, due %s\n", d.ID, d.State, table.Time(d.NextAttemptAt))
		return nil
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *limit < 0 {
		return usagef("--limit must not be negative")
	}
	var all []grantd.WebhookDelivery
	after := ""
	for {
		page := 500
		if *limit > 0 {
			page = min(page, *limit-len(all))
		}
		out, err := c.WebhookDeliveries(ctx, grantd.DeliveryFilter{State: *state, Endpoint: *endpoint, After: after, Limit: page})
		if err != nil {
			return err
		}
		all = append(all, out.Deliveries...)
		if out.NextAfter == "" || (*limit > 0 && len(all) >= *limit) {
			break
		}
		after = out.NextAfter
	}
	if rf.asJSON {
		if all == nil {
			all = []grantd.WebhookDelivery{}
		}
		return writeJSON(e.stdout, all)
	}
	if len(all) == 0 {
		fmt.Fprintln(e.stdout, "no webhook deliveries")
		return nil
	}
	t := table.New(e.stdout, "ID", "EVENT", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR", "CREATED")
	for _, d := range all {
		t.Row(d.ID, d.EventType, d.State, strconv.Itoa(d.Attempts), table.Time(d.NextAttemptAt), d.LastError, table.Time(d.CreatedAt))
	}
	return t.Flush()
}
