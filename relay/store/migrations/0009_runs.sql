-- Checklist runs filed by consoles (issue 11.2), owned by relay/runs. A
-- run's events are kept as sent, numbered by the console (run id + seq is
-- the idempotency key); runs and run_steps are what the events add up to,
-- kept with them in the same transaction, for lists and statistics.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,              -- the console's run id
    site             TEXT NOT NULL,
    camera           TEXT NOT NULL,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    activity         TEXT NOT NULL DEFAULT '',
    template         TEXT NOT NULL,                 -- JSON wire.RunTemplate
    officer          TEXT NOT NULL,
    filed_by         TEXT NOT NULL,                 -- the relay user whose console filed it
    started_at       TEXT NOT NULL,
    ended_at         TEXT NOT NULL DEFAULT '',      -- '' while the run goes on
    seq              INTEGER NOT NULL               -- the last event's
);
CREATE INDEX runs_ended ON runs (ended_at, site, activity);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq    INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    at     TEXT NOT NULL,
    body   TEXT NOT NULL,                           -- JSON wire.RunEvent as filed: a replay is compared with it
    PRIMARY KEY (run_id, seq)
);

-- Each step's last mark, and whether a rule of the template flagged it.
CREATE TABLE run_steps (
    run_id         TEXT NOT NULL REFERENCES runs (id),
    step           TEXT NOT NULL,
    mark           TEXT NOT NULL DEFAULT '',        -- done, deviation, not_seen; '' unmarked
    deviation      TEXT NOT NULL DEFAULT '',
    deviation_text TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL DEFAULT '',
    duration_ms    INTEGER NOT NULL DEFAULT 0,
    flagged        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step)
);

CREATE TABLE run_findings (
    run_id     TEXT NOT NULL REFERENCES runs (id),
    finding_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (run_id, finding_id)
);
