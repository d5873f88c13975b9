-- The review list at 1,000,000 findings (issue 13, docs/PERFORMANCE.md):
-- a filter on where findings are (a district, a site type, sites) alone or
-- with one negative condition (not overdue, not reviewed, no outcome) was
-- counted by reading each of its findings' index entries (hotels not
-- overdue: 561,776 entries, ~120 ms of CPU). Each site's number of
-- findings is kept here, as review_counts keeps all of them (0023):
-- relay/review sums a filter's sites, and takes away its opposite's few.

CREATE TABLE review_site_counts (
    site_id  TEXT PRIMARY KEY,
    findings INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO review_site_counts (site_id, findings) SELECT site_id, count(*) FROM findings GROUP BY site_id;

-- Every writer's findings, the relay's and relay/seed's fill alike, in
-- the transaction that writes them.
CREATE TRIGGER review_site_counts_filed AFTER INSERT ON findings
BEGIN
    INSERT INTO review_site_counts (site_id, findings) VALUES (NEW.site_id, 1)
        ON CONFLICT (site_id) DO UPDATE SET findings = findings + 1;
END;

CREATE TRIGGER review_site_counts_deleted AFTER DELETE ON findings
BEGIN
    UPDATE review_site_counts SET findings = findings - 1 WHERE site_id = OLD.site_id;
END;

-- No writer moves a finding to another site; were one to, the numbers
-- follow it.
CREATE TRIGGER review_site_counts_moved AFTER UPDATE OF site_id ON findings
WHEN OLD.site_id IS NOT NEW.site_id
BEGIN
    UPDATE review_site_counts SET findings = findings - 1 WHERE site_id = OLD.site_id;
    INSERT INTO review_site_counts (site_id, findings) VALUES (NEW.site_id, 1)
        ON CONFLICT (site_id) DO UPDATE SET findings = findings + 1;
END;
