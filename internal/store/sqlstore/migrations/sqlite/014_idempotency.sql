-- An idempotency key remembers, per tenant, one write action's request (a
-- hash of action, input and connection) and, once done, its answer. While
-- in_flight a lease names the process sending it; sent_at says the request
-- may have reached the provider, so a successor must look before sending
-- again. resource_id is what the write created or changed at the provider,
-- at most once per tenant, so a recovery never adopts another key's order.
CREATE TABLE idempotency_keys (
    tenant_id        TEXT    NOT NULL,
    idem_key         TEXT    NOT NULL,
    request_hash     BLOB    NOT NULL,
    state            TEXT    NOT NULL,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_expires_at INTEGER,
    sent_at          INTEGER,
    status           INTEGER NOT NULL DEFAULT 0,
    body             BLOB,
    resource_id      TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE UNIQUE INDEX idempotency_keys_resource ON idempotency_keys (tenant_id, resource_id) WHERE resource_id <> '';
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
