package grantd

import (
	"context"
	"encoding/json"
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
	if err := checkID("connection id", connectionID); err != nil {
		return err
	}
	if err := checkID("action name", name); err != nil {
		return err
	}
	if input == nil {
		input = struct{}{}
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	if _, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections", connectionID, "actions", name), input, &out); err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(out.Result, result); err != nil {
		return fmt.Errorf("grantd: action %s: decode result: %w", name, err)
	}
	return nil
}
