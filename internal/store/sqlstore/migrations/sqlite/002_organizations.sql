CREATE TABLE organizations (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE mapping_links (
    id            TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    expires_at    INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX mapping_links_expires ON mapping_links (expires_at);
