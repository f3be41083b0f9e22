-- The durable webhook outbox: one row per event and endpoint, kept from
-- the moment the event is emitted until it is delivered or fails, so that
-- a delivery survives a crash or restart and is posted at least once by
-- whichever replica claims it. endpoint is a key derived from the
-- endpoint's URL (never its secret); payload is the exact, token-free JSON
-- body that is signed and posted. attempts counts claims; lease_owner and
-- lease_expires_at name the replica posting it now. finished_at is when it
-- was delivered or failed.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint         TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_expires_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (state, finished_at);
