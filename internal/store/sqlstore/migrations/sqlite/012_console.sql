-- Console sessions (package console): id is the SHA-256 of the random
-- cookie value, never the value itself. A tenant session has tenant_id
-- set; an admin session sees every tenant.
CREATE TABLE console_sessions (
    id         BLOB PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    admin      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- The console pages connections by id (keyset pagination), within a
-- tenant or across all of them (the primary key serves that order).
CREATE INDEX connections_tenant_page ON connections (tenant_id, id);

-- The overview counts connections by provider and status, within a tenant
-- or across all of them, from this index alone.
CREATE INDEX connections_tenant_counts ON connections (tenant_id, provider, status);

-- The overview counts the last day's refresh outcomes by hour and kind
-- from this index alone.
CREATE INDEX events_created_kind ON events (created_at, kind, tenant_id);

-- The console searches account emails by case-insensitive prefix.
CREATE INDEX connections_email ON connections (LOWER(email));
