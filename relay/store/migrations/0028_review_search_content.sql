-- The review's search at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "After 0028"): a search with a district or a site type named each of
-- their sites' words (72 hotels: an OR FTS4 merges, 619,000 entries, too
-- many to name), so that the condition was tested on the findings' side
-- (消毒 with a month of hotels, 100 ms); and FTS4 loads the whole doclist
-- of the rarest word of a match of several before it reads any (ii == 0
-- in fts3EvalSelectDeferred), so a page bounded by its newest matches
-- paid for every match again (a month of hotels: 16 ms, where its own
-- few are 0.4).
--
-- Three changes:
--   - The site column of a document holds the site's district and type as
--     words too: 'k' site, 'd' district (its Chinese name, as the filter
--     names it), 't' type, each in hex (review_doc_words). A district is
--     one word to the index, read once.
--   - A new column, marks, holds the finding's review as the filter asks
--     it (migration 0019's kept columns): r1 reviewed or r0; o0 no outcome
--     or oa any, and o1, o2, o4, o8 for each kind's bit; p7, p30, p90 when
--     another finding of its deviation at its site is within that many
--     days (the repeat windows the filters offer). 整改 not reviewed
--     tested each of 226,000 matches against the findings' index: 270 ms.
--   - The documents' texts are kept in review_docs, and review_fts indexes
--     them as its external content (content=review_docs): FTS4 defers no
--     word of such a table, and reads every word of a match from its
--     doclist's end, newest first, as far as the page or the period
--     needs.
-- review_docs's triggers keep the index with it, as the FTS4 documentation
-- has them; the findings' and the sites' triggers change review_docs.

DROP TRIGGER review_docs_finding_deleted;
DROP TRIGGER review_fts_values_changed;

-- The words of each finding's values, one definition for the migration,
-- the triggers and relay/review's indexing. A site the relay does not know
-- has no district or type: the filter's conditions on those are of the
-- sites it knows (review.Filter.siteConds).
CREATE VIEW review_doc_words AS
SELECT f.rowid AS docid, f.id AS finding_id,
    'k' || lower(hex(f.site_id)) || coalesce(' d' || lower(hex(s.district_zh)) || ' t' || lower(hex(s.kind)), '') AS site,
    'k' || lower(hex(f.status)) AS status, 'k' || lower(hex(f.severity)) AS severity,
    'k' || lower(hex(f.template_id)) AS template, 'k' || lower(hex(f.deviation)) AS deviation,
    'k' || lower(hex(f.observer)) AS officer,
    'r' || f.reviewed || CASE WHEN f.outcome_kinds = 0 THEN ' o0' ELSE ' oa' END ||
        CASE WHEN f.outcome_kinds & 1 THEN ' o1' ELSE '' END || CASE WHEN f.outcome_kinds & 2 THEN ' o2' ELSE '' END ||
        CASE WHEN f.outcome_kinds & 4 THEN ' o4' ELSE '' END || CASE WHEN f.outcome_kinds & 8 THEN ' o8' ELSE '' END ||
        CASE WHEN f.repeat_gap_ms <= 7 * 86400000 THEN ' p7' ELSE '' END ||
        CASE WHEN f.repeat_gap_ms <= 30 * 86400000 THEN ' p30' ELSE '' END ||
        CASE WHEN f.repeat_gap_ms <= 90 * 86400000 THEN ' p90' ELSE '' END AS marks
FROM findings f LEFT JOIN sites s ON s.id = f.site_id;

ALTER TABLE review_docs RENAME TO review_docs_0022;
-- docid: the finding's rowid when it was indexed (migration 0022); the
-- rest, the document review_fts indexes.
CREATE TABLE review_docs (
    docid      INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL UNIQUE,
    grams      TEXT NOT NULL,
    chars      TEXT NOT NULL,
    site       TEXT NOT NULL,
    status     TEXT NOT NULL,
    severity   TEXT NOT NULL,
    template   TEXT NOT NULL,
    deviation  TEXT NOT NULL,
    officer    TEXT NOT NULL,
    marks      TEXT NOT NULL
);
INSERT INTO review_docs (docid, finding_id, grams, chars, site, status, severity, template, deviation, officer, marks)
SELECT d.docid, d.finding_id, t.grams, t.chars, w.site, w.status, w.severity, w.template, w.deviation, w.officer, w.marks
FROM review_docs_0022 d JOIN review_fts t ON t.docid = d.docid JOIN review_doc_words w ON w.finding_id = d.finding_id
ORDER BY d.docid;
DROP TABLE review_docs_0022;

DROP TABLE review_fts;
CREATE VIRTUAL TABLE review_fts USING fts4 (content="review_docs", grams, chars, site, status, severity, template, deviation, officer,
    marks, tokenize=unicode61, order=DESC);
INSERT INTO review_fts (review_fts) VALUES ('rebuild');
-- One segment: a million documents' words each in one doclist.
INSERT INTO review_fts (review_fts) VALUES ('optimize');

-- The index follows its content: the old words out before a document
-- changes or goes (FTS4 reads them from review_docs), the new in after.
CREATE TRIGGER review_docs_before_update BEFORE UPDATE ON review_docs
BEGIN
    DELETE FROM review_fts WHERE docid = OLD.docid;
END;
CREATE TRIGGER review_docs_before_delete BEFORE DELETE ON review_docs
BEGIN
    DELETE FROM review_fts WHERE docid = OLD.docid;
END;
CREATE TRIGGER review_docs_after_update AFTER UPDATE ON review_docs
BEGIN
    INSERT INTO review_fts (docid, grams, chars, site, status, severity, template, deviation, officer, marks)
    VALUES (NEW.docid, NEW.grams, NEW.chars, NEW.site, NEW.status, NEW.severity, NEW.template, NEW.deviation, NEW.officer, NEW.marks);
END;
CREATE TRIGGER review_docs_after_insert AFTER INSERT ON review_docs
BEGIN
    INSERT INTO review_fts (docid, grams, chars, site, status, severity, template, deviation, officer, marks)
    VALUES (NEW.docid, NEW.grams, NEW.chars, NEW.site, NEW.status, NEW.severity, NEW.template, NEW.deviation, NEW.officer, NEW.marks);
END;

-- As 0022: a finding's document goes with it.
CREATE TRIGGER review_docs_finding_deleted AFTER DELETE ON findings
BEGIN
    DELETE FROM review_docs WHERE finding_id = OLD.id;
END;

-- As 0027: a finding's status and severity change, and its document's
-- words follow in the same transaction; as its review marks do (0019's
-- triggers keep those columns as the marks, outcomes and neighbours
-- change).
CREATE TRIGGER review_docs_finding_changed AFTER UPDATE OF site_id, status, severity, template_id, deviation, observer,
    reviewed, outcome_kinds, repeat_gap_ms ON findings
BEGIN
    UPDATE review_docs SET (site, status, severity, template, deviation, officer, marks) =
        (SELECT site, status, severity, template, deviation, officer, marks FROM review_doc_words WHERE finding_id = NEW.id)
    WHERE finding_id = NEW.id;
END;

-- A site's district or type is changed (relay.yaml, the admin's API), or
-- a site is made known after findings were filed for it: the words of its
-- findings' documents follow.
CREATE TRIGGER review_docs_site_changed AFTER UPDATE OF district_zh, kind ON sites
WHEN OLD.district_zh IS NOT NEW.district_zh OR OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE review_docs SET site = (SELECT w.site FROM review_doc_words w WHERE w.finding_id = review_docs.finding_id)
    WHERE finding_id IN (SELECT id FROM findings WHERE site_id = NEW.id);
END;
CREATE TRIGGER review_docs_site_added AFTER INSERT ON sites
BEGIN
    UPDATE review_docs SET site = (SELECT w.site FROM review_doc_words w WHERE w.finding_id = review_docs.finding_id)
    WHERE finding_id IN (SELECT id FROM findings WHERE site_id = NEW.id);
END;
