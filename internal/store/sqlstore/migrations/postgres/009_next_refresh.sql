-- next_refresh_at is when a connection must next be refreshed, computed by
-- the broker on every write; NULL means it is not scheduled (it never needs
-- a refresh). Schedulers claim due rows through connections_refresh_due,
-- whose size follows the active rows and whose scan follows the due ones.
ALTER TABLE connections ADD COLUMN next_refresh_at TIMESTAMPTZ;

-- Backfill the active rows so that each is looked at again no later than
-- the default sweep would have (refresh.ahead 10 min before the access
-- token expires, refresh.idle_margin 120 h before the idle deadline, at the
-- absolute end), but not before a pending backoff; the broker writes its
-- own value at the next write. A row whose deadlines are all unknown, or
-- whose refresh was interrupted (a journal entry), is due at once.
-- LEAST and GREATEST ignore NULLs.
UPDATE connections SET next_refresh_at = CASE
    WHEN refresh_attempt <> '' OR (access_expires_at IS NULL
        AND refresh_idle_expires_at IS NULL AND refresh_expires_at IS NULL)
    THEN GREATEST(created_at, next_attempt_at)
    ELSE GREATEST(LEAST(
        access_expires_at - interval '10 minutes',
        refresh_idle_expires_at - interval '120 hours',
        refresh_expires_at),
        next_attempt_at)
    END
WHERE status = 'active';

CREATE INDEX connections_refresh_due ON connections (next_refresh_at, id)
    WHERE status = 'active';
