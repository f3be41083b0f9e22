-- An integration whose vendor refused its client credentials at the token
-- endpoint is marked broken: last_error holds the vendor's scrubbed reason
-- and broken_at when it was first refused; both are cleared by the next
-- token the vendor issues for it.
ALTER TABLE integrations ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN broken_at TIMESTAMPTZ;

-- A webhook delivery belongs to the tenant whose event it carries ('' for
-- an operator-level event), so that a tenant lists and redelivers its own.
ALTER TABLE webhook_deliveries ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, id);

-- An event names the connection's integration and provider, so a webhook
-- payload carries them even after the connection is deleted.
ALTER TABLE events ADD COLUMN integration_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN provider TEXT NOT NULL DEFAULT '';
