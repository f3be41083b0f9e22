-- reauth_notice_at is when the next "reauth_due" notice about the end of a
-- grant's absolute lifetime falls due (NULL: none sent for this grant yet).
ALTER TABLE connections ADD COLUMN reauth_notice_at INTEGER;
CREATE INDEX connections_reauth_due ON connections (status, refresh_expires_at);
