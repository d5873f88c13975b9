-- The review's search at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): a common word's page gathered all its matches
-- (整改: 226,000) for a test of each finding walked, and a word with a
-- district intersected all its matches (消毒: 312,000) with the district's
-- findings, 75 and 200 ms of CPU; with a status, 260.
--
-- review_fts is made again with two changes:
--   - order=DESC: its doclists are kept newest rowid first, so that
--     ORDER BY docid DESC, and a docid >= ? bound, read only the newest
--     matches instead of loading every one (relay/review: the newest
--     matches bound the page; findings are filed about in the order
--     observed, and the bound stays exact when they are not).
--   - the finding's site, status, severity, template, deviation and
--     observer, each in a column of its own as one word: 'k' and the
--     value's UTF-8 bytes in hex (one word of any value, "" too). A search
--     with conditions on these is one match, intersected in the index and
--     counted there. Searches ask the grams and chars columns only, so no
--     typed word finds these.
-- Its documents are copied in rowid order with their findings' values;
-- FTS4 cuts the copied texts again, in C.

DROP TRIGGER review_docs_finding_deleted;
ALTER TABLE review_fts RENAME TO review_fts_0022;
CREATE VIRTUAL TABLE review_fts USING fts4 (grams, chars, site, status, severity, template, deviation, officer,
    tokenize=unicode61, order=DESC);
INSERT INTO review_fts (docid, grams, chars, site, status, severity, template, deviation, officer)
SELECT t.docid, t.grams, t.chars, 'k' || lower(hex(f.site_id)), 'k' || lower(hex(f.status)), 'k' || lower(hex(f.severity)),
    'k' || lower(hex(f.template_id)), 'k' || lower(hex(f.deviation)), 'k' || lower(hex(f.observer))
FROM review_fts_0022 t JOIN findings f ON f.rowid = t.docid
ORDER BY t.docid;
DROP TABLE review_fts_0022;

-- As 0022: a finding's document goes with it.
CREATE TRIGGER review_docs_finding_deleted AFTER DELETE ON findings
BEGIN
    DELETE FROM review_fts WHERE docid = (SELECT docid FROM review_docs WHERE finding_id = OLD.id);
    DELETE FROM review_docs WHERE finding_id = OLD.id;
END;

-- A finding's status and severity change (every change is an event, and
-- relay/review indexes the finding again, but a search's count must not
-- wait for that): its document's words follow in the same transaction. No
-- writer moves a finding or changes its template, deviation or observer;
-- were one to, the words follow too.
CREATE TRIGGER review_fts_values_changed AFTER UPDATE OF site_id, status, severity, template_id, deviation, observer ON findings
BEGIN
    UPDATE review_fts SET site = 'k' || lower(hex(NEW.site_id)), status = 'k' || lower(hex(NEW.status)),
        severity = 'k' || lower(hex(NEW.severity)), template = 'k' || lower(hex(NEW.template_id)),
        deviation = 'k' || lower(hex(NEW.deviation)), officer = 'k' || lower(hex(NEW.observer))
    WHERE docid = (SELECT docid FROM review_docs WHERE finding_id = NEW.id);
END;

-- Each value's number of findings, of the five columns above besides the
-- site (review_site_counts keeps the sites', 0026): relay/review names a
-- condition in a search's match only when its findings are few enough
-- for the index to intersect them at once (an OR of 72 hotels' words
-- merges 619,000 entries, 450 ms; a district's 64,000, 2 ms).
CREATE TABLE review_value_counts (
    col      TEXT NOT NULL,
    value    TEXT NOT NULL,
    findings INTEGER NOT NULL,
    PRIMARY KEY (col, value)
) WITHOUT ROWID;
INSERT INTO review_value_counts (col, value, findings)
SELECT 'status', status, count(*) FROM findings GROUP BY status
UNION ALL SELECT 'severity', severity, count(*) FROM findings GROUP BY severity
UNION ALL SELECT 'template', template_id, count(*) FROM findings GROUP BY template_id
UNION ALL SELECT 'deviation', deviation, count(*) FROM findings GROUP BY deviation
UNION ALL SELECT 'officer', observer, count(*) FROM findings GROUP BY observer;

CREATE TRIGGER review_value_counts_filed AFTER INSERT ON findings
BEGIN
    INSERT INTO review_value_counts (col, value, findings) VALUES ('status', NEW.status, 1), ('severity', NEW.severity, 1),
        ('template', NEW.template_id, 1), ('deviation', NEW.deviation, 1), ('officer', NEW.observer, 1)
        ON CONFLICT (col, value) DO UPDATE SET findings = findings + 1;
END;

CREATE TRIGGER review_value_counts_deleted AFTER DELETE ON findings
BEGIN
    UPDATE review_value_counts SET findings = findings - 1
    WHERE (col = 'status' AND value = OLD.status) OR (col = 'severity' AND value = OLD.severity)
       OR (col = 'template' AND value = OLD.template_id) OR (col = 'deviation' AND value = OLD.deviation)
       OR (col = 'officer' AND value = OLD.observer);
END;

CREATE TRIGGER review_value_counts_changed AFTER UPDATE OF status, severity, template_id, deviation, observer ON findings
BEGIN
    UPDATE review_value_counts SET findings = findings - 1
    WHERE (col = 'status' AND value = OLD.status) OR (col = 'severity' AND value = OLD.severity)
       OR (col = 'template' AND value = OLD.template_id) OR (col = 'deviation' AND value = OLD.deviation)
       OR (col = 'officer' AND value = OLD.observer);
    INSERT INTO review_value_counts (col, value, findings) VALUES ('status', NEW.status, 1), ('severity', NEW.severity, 1),
        ('template', NEW.template_id, 1), ('deviation', NEW.deviation, 1), ('officer', NEW.observer, 1)
        ON CONFLICT (col, value) DO UPDATE SET findings = findings + 1;
END;

-- Each hour's findings (the hours since 1970 of observed_at, UTC) with the
-- least and the greatest rowid filed in it: relay/review reads a period
-- of whole hours (a day on the duty room's clock is 24 of them) from
-- here rather than from its findings' index entries (a week's 78,000,
-- 16 ms of CPU), for the rowids a search's matches in the period are
-- between. A finding deleted leaves the rowids as they were: bounds
-- still, no longer the hour's alone.
CREATE TABLE review_hours (
    hour     INTEGER PRIMARY KEY,
    findings INTEGER NOT NULL,
    lo       INTEGER NOT NULL,
    hi       INTEGER NOT NULL
);
INSERT INTO review_hours (hour, findings, lo, hi)
SELECT unixepoch(observed_at) / 3600, count(*), min(rowid), max(rowid) FROM findings GROUP BY 1;

CREATE TRIGGER review_hours_filed AFTER INSERT ON findings
BEGIN
    INSERT INTO review_hours (hour, findings, lo, hi) VALUES (unixepoch(NEW.observed_at) / 3600, 1, NEW.rowid, NEW.rowid)
        ON CONFLICT (hour) DO UPDATE SET findings = findings + 1, lo = min(lo, excluded.lo), hi = max(hi, excluded.hi);
END;

CREATE TRIGGER review_hours_deleted AFTER DELETE ON findings
BEGIN
    UPDATE review_hours SET findings = findings - 1 WHERE hour = unixepoch(OLD.observed_at) / 3600;
END;

-- No writer changes when a finding was observed; were one to, it counts
-- in its new hour.
CREATE TRIGGER review_hours_moved AFTER UPDATE OF observed_at ON findings
BEGIN
    UPDATE review_hours SET findings = findings - 1 WHERE hour = unixepoch(OLD.observed_at) / 3600;
    INSERT INTO review_hours (hour, findings, lo, hi) VALUES (unixepoch(NEW.observed_at) / 3600, 1, NEW.rowid, NEW.rowid)
        ON CONFLICT (hour) DO UPDATE SET findings = findings + 1, lo = min(lo, excluded.lo), hi = max(hi, excluded.hi);
END;
