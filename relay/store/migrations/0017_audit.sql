-- What left the relay as a document (issue 13), owned by relay/audit: every
-- report, notice, notice PDF and review-list export, who asked for it, when,
-- in which format and over which filter (the query string as asked), so a
-- supervisor can answer "who took which figures out, and when".
CREATE TABLE audit_exports (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    role   TEXT NOT NULL,
    what   TEXT NOT NULL,               -- report, notice, notice_pdf, review_export
    format TEXT NOT NULL DEFAULT '',    -- json, xlsx, pdf, csv
    filter TEXT NOT NULL DEFAULT '',    -- the query string the document was made from
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_exports_at ON audit_exports (at);
CREATE INDEX audit_exports_actor ON audit_exports (actor, at);

-- The scheduled reports sent (relay/reports), one row per kind and day
-- (the duty room's local date, YYYY-MM-DD): the row is written once the
-- day's message is queued, so a restart neither skips a day nor sends it
-- twice.
CREATE TABLE report_sends (
    kind    TEXT NOT NULL,               -- daily
    day     TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (kind, day)
);
