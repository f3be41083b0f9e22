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
