-- next_refresh_at is when a connection must next be refreshed, computed by
-- the broker on every write; NULL means it is not scheduled (it never needs
-- a refresh). Schedulers claim due rows through connections_refresh_due,
-- whose size follows the active rows and whose scan follows the due ones.
ALTER TABLE connections ADD COLUMN next_refresh_at INTEGER;

-- Backfill the active rows so that each is looked at again no later than
-- the default sweep would have (refresh.ahead 10 min before the access
-- token expires, refresh.idle_margin 120 h before the idle deadline, at the
-- absolute end), but not before a pending backoff; the broker writes its
-- own value at the next write. A row whose deadlines are all unknown, or
-- whose refresh was interrupted (a journal entry), is due at once.
UPDATE connections SET next_refresh_at = CASE
    WHEN refresh_attempt <> '' OR (access_expires_at IS NULL
        AND refresh_idle_expires_at IS NULL AND refresh_expires_at IS NULL)
    THEN max(created_at, coalesce(next_attempt_at, created_at))
    ELSE max(min(
        coalesce(access_expires_at - 600000000, 9223372036854775807),
        coalesce(refresh_idle_expires_at - 432000000000, 9223372036854775807),
        coalesce(refresh_expires_at, 9223372036854775807)),
        coalesce(next_attempt_at, 0))
    END
WHERE status = 'active';

-- The index also carries the columns the claim filters on (the lease, and
-- status, which SQLite does not take from the partial index's condition),
-- so a claim decides from the index alone and passes over rows under a
-- live lease without reading them; the queries name it with INDEXED BY.
CREATE INDEX connections_refresh_due
    ON connections (next_refresh_at, id, lease_owner, lease_expires_at, status)
    WHERE status = 'active';
