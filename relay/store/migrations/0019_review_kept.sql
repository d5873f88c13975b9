-- The review list at 1,000,000 findings, second round (issue 13,
-- docs/PERFORMANCE.md "Review at 1M findings"): what a filter asked of
-- other rows or tables for every finding it tested — the nearest finding
-- of the same deviation at the site (repeat), a review mark (reviewed), the
-- outcomes recorded (outcome) — is kept on the finding's own row, so a
-- page walking the list's order tests a column instead of building a list
-- of hundreds of thousands of ids or seeking other rows for each finding.
--
-- The columns are kept by the triggers below, in the database itself, so
-- every writer keeps them alike: relay/findings filing and acting on
-- findings, relay/review recording marks and outcomes, relay/seed's fill.
-- relay/review's Filter reads them; relay/review's tests compare them with
-- the queries they replace.

-- repeat_gap_ms: the milliseconds (stored times are to the millisecond)
-- from the finding to the nearest other finding of the same deviation at
-- the same site, before or after, withdrawn findings (mistakes) not
-- counting as the other; NULL when there is none or the finding has no
-- deviation. repeat=N keeps repeat_gap_ms <= N days.
ALTER TABLE findings ADD COLUMN repeat_gap_ms INTEGER;
-- reviewed: 1 while the finding has a review_marks row.
ALTER TABLE findings ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0;
-- outcome_kinds: the kinds of outcome recorded, one bit each:
-- notice_issued 1, rectify_order 2, suspend_order 4, case_filed 8.
ALTER TABLE findings ADD COLUMN outcome_kinds INTEGER NOT NULL DEFAULT 0;

-- The findings a repeat may be of: the triggers' neighbours.
CREATE INDEX findings_repeat_live ON findings (site_id, deviation, observed_at) WHERE status <> 'withdrawn';

-- A finding's gap, written once for the backfill and the triggers: the
-- latest live finding at or before it and the earliest at or after it,
-- itself left out.
CREATE VIEW findings_repeat_gap AS
SELECT f.rowid AS finding_rowid,
    CASE WHEN f.deviation = '' THEN NULL ELSE (SELECT CAST(round(min(d) * 86400000) AS INTEGER) FROM (
        SELECT julianday(f.observed_at) - julianday((SELECT g.observed_at FROM findings g
            WHERE g.site_id = f.site_id AND g.deviation = f.deviation AND g.status <> 'withdrawn'
            AND g.observed_at <= f.observed_at AND g.rowid <> f.rowid ORDER BY g.observed_at DESC LIMIT 1)) AS d
        UNION ALL
        SELECT julianday((SELECT g.observed_at FROM findings g
            WHERE g.site_id = f.site_id AND g.deviation = f.deviation AND g.status <> 'withdrawn'
            AND g.observed_at >= f.observed_at AND g.rowid <> f.rowid ORDER BY g.observed_at ASC LIMIT 1))
            - julianday(f.observed_at))) END AS gap_ms
FROM findings f;

-- The findings whose gap a change at (site, deviation, observed_at) may
-- change are those with no other live finding between them and it: the
-- ones from the live finding before it to the live one after it. The
-- changed finding (rowid changed) is left out of the neighbours: it moved,
-- was withdrawn, or is the new one. A row "inserted" into this view is
-- such a change; it stores nothing.
CREATE VIEW findings_repeat_touch AS
SELECT '' AS site_id, '' AS deviation, '' AS observed_at, 0 AS changed WHERE 0;

CREATE TRIGGER findings_repeat_touched INSTEAD OF INSERT ON findings_repeat_touch
WHEN NEW.deviation <> ''
BEGIN
    UPDATE findings SET repeat_gap_ms = (SELECT gap_ms FROM findings_repeat_gap WHERE finding_rowid = findings.rowid)
    WHERE site_id = NEW.site_id AND deviation = NEW.deviation
    AND observed_at >= coalesce((SELECT g.observed_at FROM findings g
        WHERE g.site_id = NEW.site_id AND g.deviation = NEW.deviation AND g.status <> 'withdrawn'
        AND g.observed_at <= NEW.observed_at AND g.rowid <> NEW.changed ORDER BY g.observed_at DESC LIMIT 1), '')
    AND observed_at <= coalesce((SELECT g.observed_at FROM findings g
        WHERE g.site_id = NEW.site_id AND g.deviation = NEW.deviation AND g.status <> 'withdrawn'
        AND g.observed_at >= NEW.observed_at AND g.rowid <> NEW.changed ORDER BY g.observed_at ASC LIMIT 1), '~');
END;

CREATE TRIGGER findings_repeat_filed AFTER INSERT ON findings
WHEN NEW.deviation <> ''
BEGIN
    INSERT INTO findings_repeat_touch VALUES (NEW.site_id, NEW.deviation, NEW.observed_at, NEW.rowid);
END;

-- Status changes are most of a finding's history; only withdrawing (or
-- taking it back) changes what it is to the others.
CREATE TRIGGER findings_repeat_changed AFTER UPDATE OF site_id, deviation, observed_at, status ON findings
WHEN OLD.site_id IS NOT NEW.site_id OR OLD.deviation IS NOT NEW.deviation OR OLD.observed_at IS NOT NEW.observed_at
    OR (OLD.status = 'withdrawn') <> (NEW.status = 'withdrawn')
BEGIN
    INSERT INTO findings_repeat_touch VALUES (OLD.site_id, OLD.deviation, OLD.observed_at, OLD.rowid);
    INSERT INTO findings_repeat_touch VALUES (NEW.site_id, NEW.deviation, NEW.observed_at, NEW.rowid);
    UPDATE findings SET repeat_gap_ms = (SELECT gap_ms FROM findings_repeat_gap WHERE finding_rowid = NEW.rowid)
    WHERE rowid = NEW.rowid AND NEW.deviation = '';
END;

CREATE TRIGGER findings_repeat_deleted AFTER DELETE ON findings
BEGIN
    INSERT INTO findings_repeat_touch VALUES (OLD.site_id, OLD.deviation, OLD.observed_at, OLD.rowid);
END;

CREATE TRIGGER findings_reviewed_marked AFTER INSERT ON review_marks
BEGIN
    UPDATE findings SET reviewed = 1 WHERE id = NEW.finding_id;
END;

CREATE TRIGGER findings_reviewed_unmarked AFTER DELETE ON review_marks
BEGIN
    UPDATE findings SET reviewed = 0 WHERE id = OLD.finding_id;
END;

-- A finding's kinds are summed from its own outcomes (their unique index
-- leads with the finding), not from a view grouping them all: SQLite runs
-- such a view again for each finding it is asked of.
CREATE TRIGGER findings_outcome_recorded AFTER INSERT ON review_outcomes
BEGIN
    UPDATE findings SET outcome_kinds = (SELECT coalesce(sum(DISTINCT CASE o.kind WHEN 'notice_issued' THEN 1 WHEN 'rectify_order' THEN 2
        WHEN 'suspend_order' THEN 4 WHEN 'case_filed' THEN 8 END), 0) FROM review_outcomes o WHERE o.finding_id = NEW.finding_id)
    WHERE id = NEW.finding_id;
END;

CREATE TRIGGER findings_outcome_deleted AFTER DELETE ON review_outcomes
BEGIN
    UPDATE findings SET outcome_kinds = (SELECT coalesce(sum(DISTINCT CASE o.kind WHEN 'notice_issued' THEN 1 WHEN 'rectify_order' THEN 2
        WHEN 'suspend_order' THEN 4 WHEN 'case_filed' THEN 8 END), 0) FROM review_outcomes o WHERE o.finding_id = OLD.finding_id)
    WHERE id = OLD.finding_id;
END;

-- The record there is.
UPDATE findings SET repeat_gap_ms = (SELECT gap_ms FROM findings_repeat_gap WHERE finding_rowid = findings.rowid)
WHERE deviation <> '';
UPDATE findings SET reviewed = 1 WHERE id IN (SELECT finding_id FROM review_marks);
UPDATE findings SET outcome_kinds = (SELECT coalesce(sum(DISTINCT CASE o.kind WHEN 'notice_issued' THEN 1 WHEN 'rectify_order' THEN 2
        WHEN 'suspend_order' THEN 4 WHEN 'case_filed' THEN 8 END), 0) FROM review_outcomes o WHERE o.finding_id = findings.id)
WHERE id IN (SELECT finding_id FROM review_outcomes);

-- The filters on them: counts from the index, pages in the list's order.
CREATE INDEX findings_repeat_gap_ms ON findings (repeat_gap_ms) WHERE repeat_gap_ms IS NOT NULL;
CREATE INDEX findings_reviewed ON findings (reviewed, observed_at, id);
CREATE INDEX findings_outcomes_observed ON findings (outcome_kinds, observed_at, id);

-- overdue, latest first (or oldest): the ~10% of findings not closed in the
-- list's order, with what an overdue page and a district's test, so that
-- the page walks them instead of every finding back to the old ones
-- overdue. Its condition is written as relay/review's Filter writes it.
CREATE INDEX findings_open_observed ON findings (observed_at, id, deadline, site_id, status)
    WHERE status NOT IN ('verified', 'withdrawn');
-- 0018's index of them by deadline, with the status in it: an overdue
-- count or page by deadline reads the index alone, not ~100,000 rows to
-- test a status the index's condition already implies.
DROP INDEX IF EXISTS findings_open_deadline;
CREATE INDEX findings_open_deadline ON findings (deadline, id, status)
    WHERE status NOT IN ('verified', 'withdrawn');
-- One deviation, latest first, as 0018 did for a template and a status.
CREATE INDEX findings_deviation_observed ON findings (deviation, observed_at, id);
-- sort=severity orders by the column itself (names sort critical, major,
-- minor); 0018's index of a CASE of it was never the list's order, and
-- SQLite sorted the whole record for each page.
DROP INDEX IF EXISTS findings_severity_order;
CREATE INDEX findings_severity_observed ON findings (severity, observed_at DESC, id DESC);
