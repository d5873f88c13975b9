-- Findings forwarded by consoles, their history and evidence (relay/findings).
-- The relay is their source of truth once forwarded. No foreign key to
-- sites: a finding's record outlives a site taken out of the configuration.

CREATE TABLE findings (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL,
    camera_id        TEXT NOT NULL,
    zone             TEXT NOT NULL,
    template_id      TEXT NOT NULL DEFAULT '',
    template_version INTEGER NOT NULL DEFAULT 0,
    step             TEXT NOT NULL DEFAULT '',
    deviation        TEXT NOT NULL DEFAULT '',
    deviation_text   TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
    note             TEXT NOT NULL DEFAULT '',
    observer         TEXT NOT NULL,
    observed_at      TEXT NOT NULL,
    flagged_at       TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'rectified', 'verified', 'reopened', 'withdrawn')),
    -- content is the canonical JSON of the fields the console sent, so a
    -- repeated PUT can be told apart from a different one with the same id.
    content          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX findings_site ON findings (site_id, status, deadline);

-- Every change of a finding. The id is the change cursor consumers follow:
-- AUTOINCREMENT, so it only ever grows.
CREATE TABLE finding_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, id);

-- Evidence files, stored under DATA/evidence named by their SHA-256.
-- kind is snapshot or clip (one each) or photo (any number, in order).
CREATE TABLE finding_evidence (
    finding_id   TEXT NOT NULL REFERENCES findings (id),
    kind         TEXT NOT NULL CHECK (kind IN ('snapshot', 'clip', 'photo')),
    position     INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    PRIMARY KEY (finding_id, kind, position)
);

-- Actions already applied, so a console's retry changes nothing.
CREATE TABLE finding_actions (
    action_id  TEXT PRIMARY KEY,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    event_id   INTEGER NOT NULL REFERENCES finding_events (id)
);
