-- Times are TIMESTAMPTZ (microseconds); NULL means the zero time.
-- Lists are JSON text. Sealed values and hashes are BYTEA.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    hash       BYTEA NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE integrations (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    provider      TEXT NOT NULL,
    name          TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret BYTEA,
    redirect_uri  TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audience      TEXT NOT NULL,
    is_default    BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ
);
CREATE INDEX integrations_tenant ON integrations (tenant_id, created_at, id);

CREATE TABLE connect_links (
    id             TEXT PRIMARY KEY,
    token_hash     BYTEA NOT NULL UNIQUE,
    tenant_id      TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    expires_at     TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX connect_links_expires ON connect_links (expires_at);

CREATE TABLE connect_sessions (
    id             TEXT PRIMARY KEY,
    state_hash     BYTEA NOT NULL UNIQUE,
    browser_hash   BYTEA,
    tenant_id      TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    provider       TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    authorize_url  TEXT NOT NULL,
    token_url      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    audience       TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    nonce          BYTEA,
    verifier       BYTEA,
    return_to      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    expires_at     TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL
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
    access_token            BYTEA,
    refresh_token           BYTEA,
    id_token                BYTEA,
    access_expires_at       TIMESTAMPTZ,
    refresh_expires_at      TIMESTAMPTZ,
    refresh_idle_expires_at TIMESTAMPTZ,
    last_refresh_at         TIMESTAMPTZ,
    connected_at            TIMESTAMPTZ,
    version                 BIGINT NOT NULL,
    lease_owner             TEXT NOT NULL,
    lease_expires_at        TIMESTAMPTZ,
    failure_count           INTEGER NOT NULL,
    next_attempt_at         TIMESTAMPTZ,
    last_error              TEXT NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ
);
CREATE INDEX connections_tenant ON connections (tenant_id, created_at, id);
CREATE INDEX connections_access_due ON connections (status, access_expires_at);
CREATE INDEX connections_idle_due ON connections (status, refresh_idle_expires_at);

CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    detail        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_connection ON events (connection_id, id);

CREATE TABLE org_mappings (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    external_name TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    updated_at    TIMESTAMPTZ,
    PRIMARY KEY (connection_id, external_id)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
