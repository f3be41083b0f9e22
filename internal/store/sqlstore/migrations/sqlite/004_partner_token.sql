-- partner_token is the sealed long-lived partner refresh token of a
-- partner_refresh_bearer integration (Daxko, seeds/004); NULL otherwise.
ALTER TABLE integrations ADD COLUMN partner_token BLOB;
