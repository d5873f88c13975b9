-- The review list at 1,000,000 findings (issue 13, docs/PERFORMANCE.md
-- "Review at 1M findings"): a filter keeping nearly every finding (not
-- overdue 906,516, no outcome 930,659, not reviewed 670,435) was counted
-- by reading as many index entries on its first page (67–123 ms of CPU),
-- and everything by reading the whole of an index. The findings' number
-- is kept here; relay/review counts such a filter as that number less the
-- findings of its opposite, a few index entries' count, in one statement
-- (one snapshot: the two agree).

CREATE TABLE review_counts (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    findings INTEGER NOT NULL
);
INSERT INTO review_counts (id, findings) SELECT 1, count(*) FROM findings;

-- Every writer's findings, the relay's and relay/seed's fill alike, in
-- the transaction that writes them.
CREATE TRIGGER review_counts_filed AFTER INSERT ON findings
BEGIN
    UPDATE review_counts SET findings = findings + 1 WHERE id = 1;
END;

CREATE TRIGGER review_counts_deleted AFTER DELETE ON findings
BEGIN
    UPDATE review_counts SET findings = findings - 1 WHERE id = 1;
END;
