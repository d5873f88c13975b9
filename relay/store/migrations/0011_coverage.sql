-- Watch coverage (relay/coverage): the intervals consoles report of what
-- was on their officers' screens, their union per camera, and its sum per
-- day.

-- Each interval as reported, with the times by the relay's clock (start_ms,
-- end_ms: Unix milliseconds, the console's shifted by its skew) and as the
-- console sent them (sent_*), by which a resend is recognised.
CREATE TABLE watch_intervals (
    id            TEXT PRIMARY KEY,
    console       TEXT NOT NULL,
    officer       TEXT NOT NULL,
    site_id       TEXT NOT NULL,
    camera_id     TEXT NOT NULL,
    zone          TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('tile', 'focus')),
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL CHECK (end_ms > start_ms),
    sent_start_ms INTEGER NOT NULL,
    sent_end_ms   INTEGER NOT NULL,
    skew_ms       INTEGER NOT NULL,
    received_at   TEXT NOT NULL
);
-- Overlap checks (an officer's intervals of one camera) and the audit.
CREATE INDEX watch_intervals_officer ON watch_intervals (officer, site_id, camera_id, start_ms);
CREATE INDEX watch_intervals_start ON watch_intervals (start_ms);

-- The union of every officer's intervals of a camera, cut at UTC midnight
-- (day = start_ms / 86400000), so that a period's coverage is an index
-- range of days summed inside SQLite.
CREATE TABLE watch_spans (
    site_id   TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    zone      TEXT NOT NULL,
    day       INTEGER NOT NULL,
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    PRIMARY KEY (site_id, camera_id, start_ms)
) WITHOUT ROWID;
-- Covering: a period's spans (of some zones) are read from the index alone.
CREATE INDEX watch_spans_day ON watch_spans (day, site_id, camera_id, start_ms, end_ms, zone);

-- Each camera's watched time and last sight per UTC day, kept with the
-- spans: a month's coverage sums 30 rows a camera, not every span.
CREATE TABLE watch_days (
    day         INTEGER NOT NULL,
    site_id     TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    watched_ms  INTEGER NOT NULL,
    last_end_ms INTEGER NOT NULL,
    PRIMARY KEY (day, site_id, camera_id)
) WITHOUT ROWID;

-- Each console's last measured clock skew, kept while new measures stay
-- within a second of it, so that intervals cut from one another in
-- different batches still meet end to start.
CREATE TABLE watch_consoles (
    console     TEXT PRIMARY KEY,
    skew_ms     INTEGER NOT NULL,
    measured_at TEXT NOT NULL
);
