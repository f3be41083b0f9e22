package grantd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Actions lists the actions, with each one's input and output JSON Schema,
// sorted by name.
func (c *Client) Actions(ctx context.Context) ([]Action, error) {
	var out struct {
		Actions []Action `json:"actions"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "actions"), nil, &out)
	return out.Actions, err
}

// RunAction runs the named action (such as "pax8.list_companies") on a
// connection with input (nil sends {}) and decodes its result into result
// (unless result is nil). Invalid input is an [*Error] with code
// invalid_input and Field; a provider refusal carries its body in Upstream.
func (c *Client) RunAction(ctx context.Context, connectionID, name string, input, result any) error {
	_, err := c.runAction(ctx, connectionID, name, "", input, result)
	return err
}

// MaxIdempotencyKey is the longest idempotency key the server accepts.
const MaxIdempotencyKey = 255

// RunActionWithKey is [Client.RunAction] for a write action (one whose
// [Action.Idempotent] is set) with an idempotency key: the tenant's first
// request with key runs the write and grantd keeps its answer for 24 hours;
// a repeat with the same action, input and connection gets that answer
// without calling the provider, and replayed reports it. Reusing key for
// another request is an [*Error] with code idempotency_key_reused; while
// the first request with it still runs, idempotency_key_in_use with
// RetryAfter. key is 1 to [MaxIdempotencyKey] printable ASCII characters.
func (c *Client) RunActionWithKey(ctx context.Context, connectionID, name, key string, input, result any) (replayed bool, err error) {
	if key == "" || len(key) > MaxIdempotencyKey {
		return false, fmt.Errorf("grantd: the idempotency key must be 1 to %d characters", MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false, errors.New("grantd: the idempotency key must be printable ASCII")
		}
	}
	return c.runAction(ctx, connectionID, name, key, input, result)
}

// runAction runs an action with an optional idempotency key and reports
// whether the answer was a replay.
func (c *Client) runAction(ctx context.Context, connectionID, name, key string, input, result any) (bool, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return false, err
	}
	if err := checkID("action name", name); err != nil {
		return false, err
	}
	if input == nil {
		input = struct{}{}
	}
	var extra http.Header
	if key != "" {
		extra = http.Header{"Idempotency-Key": {key}}
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	h, err := c.callWith(ctx, http.MethodPost, c.endpoint("v1", "connections", connectionID, "actions", name), extra, input, &out)
	if err != nil {
		return false, err
	}
	replayed := h.Get("Idempotent-Replayed") == "true"
	if result == nil {
		return replayed, nil
	}
	if err := json.Unmarshal(out.Result, result); err != nil {
		return replayed, fmt.Errorf("grantd: action %s: decode result: %w", name, err)
	}
	return replayed, nil
}
