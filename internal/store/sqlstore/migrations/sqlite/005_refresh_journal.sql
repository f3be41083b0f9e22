-- The refresh journal (write-ahead): refresh_attempt names the refresh
-- request in flight for the current refresh token, refresh_started_at is
-- when that token was first sent, refresh_replays how often it was sent
-- again after an answer was lost. A non-empty refresh_attempt whose lease
-- has lapsed is a refresh that may have reached the provider and whose
-- answer nobody stored.
ALTER TABLE connections ADD COLUMN refresh_attempt TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN refresh_started_at INTEGER;
ALTER TABLE connections ADD COLUMN refresh_replays INTEGER NOT NULL DEFAULT 0;
