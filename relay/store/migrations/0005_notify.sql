-- Notifications of findings (relay/notify): every message to every target,
-- kept until delivered or given up on, so a restart loses none.

-- How far the notifier has read the findings' change cursor.
CREATE TABLE notify_cursor (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);

CREATE TABLE notify_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id      TEXT NOT NULL,
    -- new, reopened or due_soon; key tells apart repeats of a reason (the
    -- reopening's cursor, the deadline and stage of a reminder).
    reason          TEXT NOT NULL,
    key             TEXT NOT NULL DEFAULT '',
    site_id         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'wecom', 'dingtalk')),
    -- The target's URL may carry its key (WeCom, DingTalk): it is never
    -- logged. Secrets are not stored; they are read from the configuration.
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    TEXT,
    gave_up_at      TEXT,
    UNIQUE (finding_id, reason, key, kind, url)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- Findings filed before notifications existed are not announced.
INSERT INTO notify_cursor (id, cursor) SELECT 1, coalesce(max(id), 0) FROM finding_events;
