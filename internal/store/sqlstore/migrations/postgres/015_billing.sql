-- billing_lines holds what a tenant bills its organisations per month
-- (period "2026-11"), for reconciliation against Pax8. Quantities and
-- prices are exact decimals kept as text.
CREATE TABLE billing_lines (
    tenant_id  TEXT NOT NULL,
    period     TEXT NOT NULL,
    line       INTEGER NOT NULL,
    org_id     TEXT NOT NULL,
    product    TEXT NOT NULL,
    quantity   TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    PRIMARY KEY (tenant_id, period, line)
);

-- product_mappings links a tenant's product key to a Pax8 product, per
-- connection, as org_mappings does for companies.
CREATE TABLE product_mappings (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    product_key   TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    external_name TEXT NOT NULL,
    updated_at    TIMESTAMPTZ,
    PRIMARY KEY (connection_id, product_key)
);
