-- Shifts and handover (relay/shifts): who is on duty, the handovers that
-- end duties and their receipts, and the cameras' state changes the
-- handover reports outages from. Times are sqlitedb's text form (UTC).

-- An officer's duty, from signing on until handing over; at most one open
-- (ended_at NULL) per user.
CREATE TABLE duties (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name   TEXT NOT NULL,
    role        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    started_by  TEXT NOT NULL CHECK (started_by IN ('sign_in', 'explicit', 'receipt')),
    ended_at    TEXT,
    handover_id TEXT
);
CREATE UNIQUE INDEX duties_open ON duties (user_name) WHERE ended_at IS NULL;

-- A handover note; checklist and coverage are JSON (relay/wire's
-- ChecklistItem list and Coverage), kept as they were at the handover.
CREATE TABLE handovers (
    id          TEXT PRIMARY KEY,
    shift_id    TEXT NOT NULL,
    shift_start TEXT NOT NULL,
    shift_end   TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL,
    duty_since  TEXT NOT NULL,
    note        TEXT NOT NULL,
    checklist   TEXT NOT NULL,
    coverage    TEXT NOT NULL DEFAULT 'null',
    -- the request's canonical JSON, so a repeat is told from a different one
    content     TEXT NOT NULL
);
CREATE INDEX handovers_shift ON handovers (shift_start, at);

CREATE TABLE handover_receipts (
    handover_id TEXT NOT NULL REFERENCES handovers (id),
    user_name   TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (handover_id, user_name)
);

-- Each camera's states one after another (online, stalled, offline); the
-- current one has until NULL.
CREATE TABLE camera_states (
    site_id   TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('online', 'stalled', 'offline')),
    since     TEXT NOT NULL,
    until     TEXT
);
CREATE INDEX camera_states_camera ON camera_states (site_id, camera_id, since);
CREATE INDEX camera_states_open ON camera_states (site_id, camera_id) WHERE until IS NULL;
