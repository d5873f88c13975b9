-- 监督意见书 (relay/notices, issue 13): a site's findings compiled into one
-- numbered notice. Numbered per year (year, seq) in the order issued;
-- notice_numbers keeps the last number of each year, so a number is never
-- given twice. A notice is closed when every item's finding is (verified,
-- or withdrawn by the officers); closed_at, set when that is first seen,
-- then says when the last was, and never goes back: a closed finding has
-- no way out of closed.

CREATE TABLE notice_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE notices (
    id          TEXT PRIMARY KEY,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    site_id     TEXT NOT NULL,
    lang        TEXT NOT NULL CHECK (lang IN ('zh-CN', 'en')),
    issued_by   TEXT NOT NULL,
    issued_role TEXT NOT NULL, -- supervisor or admin, who the outcomes are recorded as
    issued_at   TEXT NOT NULL,
    closed_at   TEXT,
    -- The outcome on every item's finding (notice_issued, relay/review)
    -- and the audit record are written after the notice's transaction (in
    -- their owners' own); 0 until both are, and done again at start.
    recorded    INTEGER NOT NULL DEFAULT 0 CHECK (recorded IN (0, 1)),
    UNIQUE (year, seq)
);
CREATE INDEX notices_site ON notices (site_id, issued_at);
CREATE INDEX notices_unrecorded ON notices (id) WHERE recorded = 0;
CREATE INDEX notices_open ON notices (issued_at) WHERE closed_at IS NULL;

-- The items: each finding is in one notice at most (a finding in a notice
-- stays there; one closed goes in none), so the unique index is the
-- "not already in an open notice" rule, race-free. The words and the
-- deadline are the notice's as issued.
CREATE TABLE notice_items (
    notice_id   TEXT NOT NULL REFERENCES notices (id),
    position    INTEGER NOT NULL,
    finding_id  TEXT NOT NULL REFERENCES findings (id),
    deviation   TEXT NOT NULL, -- JSON {"zh-CN": …, "en": …}
    requirement TEXT NOT NULL, -- JSON {"zh-CN": …, "en": …}
    deadline    TEXT NOT NULL,
    PRIMARY KEY (notice_id, position)
);
CREATE UNIQUE INDEX notice_items_finding ON notice_items (finding_id);
