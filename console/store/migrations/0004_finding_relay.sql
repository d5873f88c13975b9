-- The relay a finding was flagged under (issue 6): its outbox goes to that
-- relay only. A console signed in to another one (a training relay, a
-- neighbouring city's) keeps the finding waiting, so that city A's
-- findings never land in city B's system, where a "site-01" may well
-- exist. The value is the relay's normalised base URL, as the changes
-- cursor and the "relay" setting keep it; '' is a finding not bound yet,
-- which the first relay the console forwards to takes.
ALTER TABLE findings ADD COLUMN relay TEXT NOT NULL DEFAULT '';

-- Findings flagged before this migration were flagged under the relay the
-- console last signed in to, as far as anyone can tell now; with none
-- known they stay unbound.
UPDATE findings SET relay = coalesce((SELECT value FROM settings WHERE key = 'relay'), '');

CREATE INDEX findings_relay ON findings (relay);
