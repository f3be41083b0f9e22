-- Times are INTEGER unix microseconds in UTC; NULL means the zero time.
-- Lists are JSON text. Sealed values and hashes are BLOBs.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE integrations (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    provider      TEXT NOT NULL,
    name          TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret BLOB,
    redirect_uri  TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audience      TEXT NOT NULL,
    is_default    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER
);
CREATE INDEX integrations_tenant ON integrations (tenant_id, created_at, id);

CREATE TABLE connect_links (
    id             TEXT PRIMARY KEY,
    token_hash     BLOB NOT NULL UNIQUE,
    tenant_id      TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    expires_at     INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX connect_links_expires ON connect_links (expires_at);

CREATE TABLE connect_sessions (
    id             TEXT PRIMARY KEY,
    state_hash     BLOB NOT NULL UNIQUE,
    browser_hash   BLOB,
    tenant_id      TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider       TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    authorize_url  TEXT NOT NULL,
    token_url      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    audience       TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    nonce          BLOB,
    verifier       BLOB,
    return_to      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    expires_at     INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX connect_sessions_expires ON connect_sessions (expires_at);

CREATE TABLE connections (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL,
    integration_id          TEXT NOT NULL,
    provider                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    subject                 TEXT NOT NULL,
    email                   TEXT NOT NULL,
    scopes                  TEXT NOT NULL,
    token_type              TEXT NOT NULL,
    access_token            BLOB,
    refresh_token           BLOB,
    id_token                BLOB,
    access_expires_at       INTEGER,
    refresh_expires_at      INTEGER,
    refresh_idle_expires_at INTEGER,
    last_refresh_at         INTEGER,
    connected_at            INTEGER,
    version                 INTEGER NOT NULL,
    lease_owner             TEXT NOT NULL,
    lease_expires_at        INTEGER,
    failure_count           INTEGER NOT NULL,
    next_attempt_at         INTEGER,
    last_error              TEXT NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER
);
CREATE INDEX connections_tenant ON connections (tenant_id, created_at, id);
CREATE INDEX connections_access_due ON connections (status, access_expires_at);
CREATE INDEX connections_idle_due ON connections (status, refresh_idle_expires_at);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    detail        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX events_connection ON events (connection_id, id);

CREATE TABLE org_mappings (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    external_name TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    updated_at    INTEGER,
    PRIMARY KEY (connection_id, external_id)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
