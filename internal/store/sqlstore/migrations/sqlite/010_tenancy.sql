-- tenants lists, as JSON text, the tenants that may use an operator
-- integration; NULL means the default for its provider's grant (every
-- tenant for authorization_code, none for an operator credential).
ALTER TABLE integrations ADD COLUMN tenants TEXT;

-- An API key has a name, the time it was last used (written at most once a
-- minute) and an optional expiry (NULL: none).
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at, id);

-- A connect link is spent (used_at) once it has produced a connection;
-- allow_account_change lets a reauthorization come back with another
-- vendor account. A session remembers the link it came from.
ALTER TABLE connect_links ADD COLUMN used_at INTEGER;
ALTER TABLE connect_links ADD COLUMN allow_account_change INTEGER NOT NULL DEFAULT 0;
CREATE INDEX connect_links_tenant ON connect_links (tenant_id, created_at);
ALTER TABLE connect_sessions ADD COLUMN link_id TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_sessions ADD COLUMN allow_account_change INTEGER NOT NULL DEFAULT 0;
