-- Webhook reconciliation reads recent events across connections by time.
CREATE INDEX events_created ON events (created_at);
