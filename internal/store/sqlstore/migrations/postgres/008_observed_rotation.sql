-- observed_rotation records whether the last refresh replaced the refresh
-- token ('rotates'), kept it ('kept'), or no refresh happened since consent
-- (''). For providers that may rotate, a grant that keeps its token can
-- retry a refresh whose answer was lost.
ALTER TABLE connections ADD COLUMN observed_rotation TEXT NOT NULL DEFAULT '';
