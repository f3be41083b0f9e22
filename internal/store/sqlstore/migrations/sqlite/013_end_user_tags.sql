-- A connect link, the session started from it and the connection it makes
-- carry the application's end user (its id, email and display name) and
-- tags (JSON text, a list of strings), so an application can tell its
-- users' connections apart. A connection also keeps the scopes it asked
-- for (requested_scopes, JSON text) beside those the token response
-- granted (scopes).
ALTER TABLE connect_links ADD COLUMN end_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_links ADD COLUMN end_user_email TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_links ADD COLUMN end_user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_links ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE connect_sessions ADD COLUMN end_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_sessions ADD COLUMN end_user_email TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_sessions ADD COLUMN end_user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE connect_sessions ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE connections ADD COLUMN end_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN end_user_email TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN end_user_name TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE connections ADD COLUMN requested_scopes TEXT NOT NULL DEFAULT '[]';
CREATE INDEX connections_end_user ON connections (tenant_id, end_user_id);
