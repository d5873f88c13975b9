-- Checklist runs (issue 11.2): a run is kept as its events, each committed
-- with its outbox entry before the console answers the mark, so that a run
-- survives the console's end (a crash, a kill) and reaches the relay once,
-- in order. The checklist state a run shows is its events replayed.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,            -- UUIDv7, also the relay's
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    template         TEXT NOT NULL,               -- JSON checklist.Template as the run started with it
    camera           TEXT NOT NULL,               -- site/camera
    officer          TEXT NOT NULL,
    relay            TEXT NOT NULL DEFAULT '',    -- as findings.relay: the only relay it goes to
    started_at       TEXT NOT NULL,
    ended_at         TEXT NOT NULL DEFAULT '',    -- '' while it goes on
    seq              INTEGER NOT NULL             -- the last event's
);
CREATE INDEX runs_open ON runs (ended_at, started_at);
CREATE INDEX runs_relay ON runs (relay);

CREATE TABLE run_events (
    run_id         TEXT NOT NULL REFERENCES runs (id),
    seq            INTEGER NOT NULL,             -- from 1, no gaps: the relay's idempotency key with run_id
    kind           TEXT NOT NULL CHECK (kind IN ('started', 'marked', 'timer_started', 'timer_stopped', 'finding', 'ended')),
    at             TEXT NOT NULL,
    step           TEXT NOT NULL DEFAULT '',
    mark           TEXT NOT NULL DEFAULT '',     -- done, deviation, not_seen; '' takes a mark back
    deviation      TEXT NOT NULL DEFAULT '',     -- catalogue id
    deviation_text TEXT NOT NULL DEFAULT '',     -- a deviation in the officer's own words
    duration_ms    INTEGER NOT NULL DEFAULT 0,   -- a stopped timer's
    finding_id     TEXT NOT NULL DEFAULT '',     -- a finding the run produced
    flags          TEXT NOT NULL DEFAULT '[]',   -- JSON [{step, deviation}] the template's rules raised
    PRIMARY KEY (run_id, seq)
);

-- The outbox carries run events too (kind 'run': finding_id is the run's
-- id, revision the event's seq), so that they go the way findings go: at
-- least once, in order per run, with the same backoff. Its finding_id can
-- therefore no longer reference findings: the table is made again without
-- that reference, as SQLite alters no constraint in place.
CREATE TABLE outbox_new (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id      TEXT NOT NULL,                -- the finding's id, or the run's for kind 'run'
    kind            TEXT NOT NULL,                -- finding, evidence, run
    revision        INTEGER NOT NULL,             -- the finding's revision, or the run event's seq
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL DEFAULT '',
    sent_at         TEXT NOT NULL DEFAULT '',
    failed_at       TEXT NOT NULL DEFAULT '',
    attempted_at    TEXT NOT NULL DEFAULT '',
    event_id        INTEGER REFERENCES finding_events (id)
);
INSERT INTO outbox_new (seq, finding_id, kind, revision, created_at, attempts, last_error, next_attempt_at,
                        sent_at, failed_at, attempted_at, event_id)
    SELECT seq, finding_id, kind, revision, created_at, attempts, last_error, next_attempt_at,
           sent_at, failed_at, attempted_at, event_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (sent_at, seq);
CREATE INDEX outbox_finding ON outbox (finding_id, seq);
-- As 0003 made it, gone with the old table.
CREATE TRIGGER outbox_event AFTER INSERT ON outbox
WHEN NEW.kind = 'finding' AND NEW.revision > 1
BEGIN
    UPDATE outbox SET event_id = (SELECT max(id) FROM finding_events WHERE finding_id = NEW.finding_id)
    WHERE seq = NEW.seq;
END;
