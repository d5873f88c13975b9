-- Watch coverage (issue 11 §4): what was on the officer's screen.

-- The cameras on screen now, one row a camera (the relay refuses two
-- intervals of one officer and camera that overlap, so a camera in two
-- tiles, or in a tile and focused, is one watch; a change of mode closes
-- it and opens another). seen_at is when the view last said so: a view
-- gone silent (closed, crashed) is taken to have stopped showing them then.
CREATE TABLE watch_open (
    camera  TEXT PRIMARY KEY,                   -- site/camera
    mode    TEXT NOT NULL CHECK (mode IN ('tile', 'focus')),
    officer TEXT NOT NULL,
    relay   TEXT NOT NULL,
    start   TEXT NOT NULL,
    seen_at TEXT NOT NULL
);

-- Closed watch intervals, by the console's clock. batch_id is '' until
-- the interval is put in a batch for the relay.
CREATE TABLE watch_intervals (
    id       TEXT PRIMARY KEY,
    officer  TEXT NOT NULL,
    relay    TEXT NOT NULL,
    site     TEXT NOT NULL,
    camera   TEXT NOT NULL,
    mode     TEXT NOT NULL CHECK (mode IN ('tile', 'focus')),
    start    TEXT NOT NULL,
    end      TEXT NOT NULL,
    batch_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX watch_intervals_batch ON watch_intervals (batch_id, start);

-- A batch of intervals for the relay, forwarded through the outbox (kind
-- 'watch', finding_id the batch's id): bound to the relay and officer whose
-- intervals it holds.
CREATE TABLE watch_batches (
    id      TEXT PRIMARY KEY,
    relay   TEXT NOT NULL,
    officer TEXT NOT NULL,
    made_at TEXT NOT NULL
);
