-- The clip around a re-check (issue 11 §1): kind 'recheck_clip', attached
-- to a verify or reopen as its snapshot 'recheck' is (position is the id
-- of that change's event, so the file is named recheck_clip-<cursor> and
-- each re-check has at most one). SQLite cannot widen a CHECK in place:
-- the table is made again with its rows, as 0012 did.
ALTER TABLE finding_evidence RENAME TO finding_evidence_before_0020;
DROP INDEX finding_evidence_sha256;
CREATE TABLE finding_evidence (
    finding_id   TEXT NOT NULL REFERENCES findings (id),
    kind         TEXT NOT NULL CHECK (kind IN ('snapshot', 'clip', 'photo', 'recheck', 'recheck_clip')),
    position     INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    PRIMARY KEY (finding_id, kind, position)
);
INSERT INTO finding_evidence (finding_id, kind, position, sha256, bytes, content_type, added_at)
    SELECT finding_id, kind, position, sha256, bytes, content_type, added_at FROM finding_evidence_before_0020;
DROP TABLE finding_evidence_before_0020;
CREATE INDEX finding_evidence_sha256 ON finding_evidence (sha256);
