-- Indexes the supervisors' review list needs at a million findings (issue
-- 13; measured with bench review on bench seed's 1,000,000 findings,
-- docs/PERFORMANCE.md). Made by R1 for R2's number: R2 adds what the
-- benchmark finds next here.

-- A page's checklist runs (run_id of each item): without it every page
-- read all of run_findings (its key leads with the run), 40 ms at 276,000
-- links.
CREATE INDEX run_findings_finding ON run_findings (finding_id, run_id);

-- The list's orders by severity and by site, walked in order (a page of
-- fifty reads about fifty findings) instead of sorting every finding.
CREATE INDEX findings_severity_order ON findings (severity, observed_at DESC, id DESC);
CREATE INDEX findings_site_order ON findings (site_id, observed_at DESC, id DESC);

-- The filters' columns together, after the site and status most filters
-- name: a count over a district's sites with an officer, a severity, a
-- period… reads this index alone, not each finding's row (at 1M findings
-- a row read is a page of the 7 GB file).
CREATE INDEX findings_filter ON findings (site_id, status, severity, template_id, deviation, observer, observed_at, deadline);
