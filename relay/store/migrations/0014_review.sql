-- The supervisors' review of recorded findings (issue 13), owned by
-- relay/review: who marked a finding reviewed, their comments, the
-- enforcement outcomes recorded against it, and the full-text index over
-- what was written about it. Each mark, comment and outcome is also a
-- finding_events row (actions reviewed, unreviewed, commented, outcome), so
-- a finding's history shows it.

-- A finding reviewed has a row; taking the mark back deletes it.
CREATE TABLE review_marks (
    finding_id  TEXT PRIMARY KEY REFERENCES findings (id),
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);

CREATE TABLE review_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    author     TEXT NOT NULL,
    at         TEXT NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX review_comments_finding ON review_comments (finding_id, id);

-- 监督意见书 issued, 责令整改, 责令停业整顿, 立案, each with its document
-- number; the same kind and number again is the same outcome.
CREATE TABLE review_outcomes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    kind       TEXT NOT NULL CHECK (kind IN ('notice_issued', 'rectify_order', 'suspend_order', 'case_filed')),
    doc_number TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL,
    at         TEXT NOT NULL,
    UNIQUE (finding_id, kind, doc_number)
);
CREATE INDEX review_outcomes_kind ON review_outcomes (kind, finding_id);

-- The full-text index (the q filter). SQLite's FTS4, which the sqlite3
-- driver compiles in by default (FTS5 needs a build tag on every go
-- command). The words are cut in Go, not by the tokenizer: Chinese has no
-- spaces, so each run of CJK characters is indexed as its overlapping
-- pairs in grams (a phrase of them finds any longer word) and its single
-- characters in chars; other words go to grams whole. relay/review keeps
-- it, following finding_events: every change of a finding (filed, edited,
-- a note of the site's, a comment) is an event, and review_index_state
-- holds the last event indexed.
CREATE VIRTUAL TABLE review_fts USING fts4 (grams, chars, tokenize=unicode61);

-- review_fts's docid for each finding indexed.
CREATE TABLE review_docs (
    docid      INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL UNIQUE
);

CREATE TABLE review_index_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);
INSERT INTO review_index_state (id, cursor) VALUES (1, 0);

-- The filters and sorts of the review list.
CREATE INDEX findings_observed ON findings (observed_at, id);
CREATE INDEX findings_deadline ON findings (deadline, id);
CREATE INDEX findings_template ON findings (template_id, deviation, observed_at);
CREATE INDEX findings_observer ON findings (observer, observed_at);
CREATE INDEX findings_status ON findings (status, deadline);
-- repeat: the same deviation at the same site within N days.
CREATE INDEX findings_repeat ON findings (site_id, deviation, observed_at);
